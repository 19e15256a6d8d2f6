package staffui

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
)

// pageSize is the rows per page of the UI's tables.
const pageSize = 20

// pagerData is the paging links of a table. Lists that grow are paged by
// the services' cursors: Next continues after this page, First returns to
// the start (cursors only go forward).
//
// Prev and Next are query strings (withParam's encoding), typed so that
// html/template keeps their "=" and "&" (a plain string after "?" in an
// href is escaped as one query component: "c%3d…", a link to page one).
type pagerData struct {
	Label, Info, PrevLabel, NextLabel string
	Prev, Next                        template.URL
}

// withParam is the request's query with key set to v (and the one-shot
// done/err/lang parameters dropped).
func withParam(c *fiber.Ctx, key, v string) string {
	q := url.Values{}
	for k, val := range c.Queries() {
		if k != "done" && k != "err" && k != "lang" {
			q.Set(strings.Clone(k), strings.Clone(val))
		}
	}
	if v == "" {
		q.Del(key)
	} else {
		q.Set(key, v)
	}
	return q.Encode()
}

// cursorPager is the pager of a cursor-paged table whose cursor is the
// query parameter key; next is the service's next cursor.
func cursorPager(c *fiber.Ctx, p pageData, key, next string, shown int) pagerData {
	d := pagerData{Label: p.T("pager.label"), Info: p.T("pager.shown", shown),
		PrevLabel: p.T("pager.first"), NextLabel: p.T("pager.next")}
	if next != "" {
		d.Next = template.URL(withParam(c, key, next))
	}
	if c.Query(key) != "" {
		d.Prev = template.URL(withParam(c, key, ""))
	}
	return d
}

// offsetPager is the pager of the customer list (offset paging, as the
// registry's query has it).
func offsetPager(p pageData, prev, next string, total int) pagerData {
	return pagerData{Label: p.T("pager.label"), Info: p.T("pager.total", total), Prev: template.URL(prev), Next: template.URL(next),
		PrevLabel: p.T("pager.prev"), NextLabel: p.T("pager.next")}
}

// pageError maps a paged call's error: a cursor that is not the list's
// (edited or stale link) is a 400 with a way back.
func pageError(err error) error {
	if errors.Is(err, workflow.ErrBadCursor) {
		return &web.Error{Status: http.StatusBadRequest, Code: "bad_cursor", Message: tr("en", "err.bad_cursor"), Err: err}
	}
	return brandingError(err)
}

func errIs(err, target error) bool { return errors.Is(err, target) }

func trimSpace(s string) string { return strings.TrimSpace(s) }
