package staffui

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// pageSize is the rows per page of the UI's tables.
const pageSize = 20

// pageOf cuts the page named by the query parameter key ("<key>=<n>",
// 1-based) out of all, and returns the queries of the next and previous
// pages ("" when there is none).
func pageOf[T any](c *fiber.Ctx, key string, all []T) (rows []T, next, prev string) {
	n, _ := strconv.Atoi(c.Query(key))
	if n < 1 {
		n = 1
	}
	from := (n - 1) * pageSize
	if from >= len(all) {
		if len(all) == 0 {
			return nil, "", ""
		}
		n = (len(all)-1)/pageSize + 1
		from = (n - 1) * pageSize
	}
	to := min(from+pageSize, len(all))
	q := func(m int) string {
		v := url.Values{}
		for k, val := range c.Queries() {
			if k != "done" && k != "err" && k != "lang" {
				v.Set(strings.Clone(k), strings.Clone(val))
			}
		}
		v.Set(key, strconv.Itoa(m))
		return v.Encode()
	}
	if to < len(all) {
		next = q(n + 1)
	}
	if n > 1 {
		prev = q(n - 1)
	}
	return all[from:to], next, prev
}

type pagerData struct {
	Label, Info, Prev, Next, PrevLabel, NextLabel string
}

func pager(p pageData, key, prev, next string, total int) pagerData {
	return pagerData{Label: p.T("pager.label"), Info: p.T("pager.total", total), Prev: prev, Next: next,
		PrevLabel: p.T("pager.prev"), NextLabel: p.T("pager.next")}
}

func errIs(err, target error) bool { return errors.Is(err, target) }

func trimSpace(s string) string { return strings.TrimSpace(s) }
