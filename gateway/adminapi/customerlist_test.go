package adminapi_test

import (
	"encoding/csv"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/tenants"
)

// TestCustomerListSearchAndCursor: q, association_type and manager
// filters, cursor paging to the end, and the manager's scope on top.
func TestCustomerListSearchAndCursor(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	pa, cm := e.Token(t, "pa-acme"), e.Token(t, "cm-acme")
	list := "/admin/v1/tenants/acme/customers"
	walk := func(token, query string) ([]string, int) {
		var ids []string
		total := -1
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			q := query + "&limit=1"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			r := e.API(t, "GET", list+"?"+q, token, "")
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", q, r.Status, r.Body)
			}
			page, count := adminCustomerIDs(t, r)
			if total >= 0 && count != total {
				t.Fatalf("count changed %d → %d", total, count)
			}
			total = count
			ids = append(ids, page...)
			cursor, _ = r.JSON(t)["next_cursor"].(string)
			if cursor == "" {
				sort.Strings(ids)
				return ids, total
			}
		}
		t.Fatal("cursor never ended")
		return nil, 0
	}
	id := func(labels ...string) []string {
		var out []string
		for _, l := range labels {
			out = append(out, e.Cust[l].DomainID)
		}
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		name, token, query string
		want               []string
	}{
		{"everything", pa, "", id("X", "Y", "Z")},
		{"q on the account name, any case", pa, "q=ACME_Y", id("Y")},
		{"q on the xaccount id", pa, "q=acct-z", id("Z")},
		{"q on the customer id", pa, "q=" + e.Cust["X"].DomainID, id("X")},
		{"association type", pa, "association_type=2", id("X", "Y", "Z")},
		{"association type without match", pa, "association_type=1", nil},
		{"manager", pa, "manager=someone-else", id("Y")},
		{"manager's scope", cm, "q=acme", id("X")},
		{"manager's scope and another manager", cm, "manager=someone-else", nil},
		{"other tenant's customers", pa, "q=globex", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, total := walk(tc.token, tc.query); !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Fatalf("%v (count %d), want %v", got, total, tc.want)
			}
		})
	}
	for _, q := range []string{"cursor=%21%21", "limit=101", "format=xml", "offset=1&cursor=abc", "account_name=x&q=y",
		"format=csv&limit=5", "q=" + strings.Repeat("q", 65)} {
		if r := e.API(t, "GET", list+"?"+q, pa, ""); r.Status != 400 || r.ErrorCode(t) != "invalid_request" {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}

// TestCustomerCSVExport: an attachment with every match of the filters,
// cells a spreadsheet would evaluate neutralized, the manager's scope kept.
func TestCustomerCSVExport(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	evil, err := e.Customers.Create(t.Context(), "acme", tenants.Registration{XAccountType: "acme-platform",
		XAccountID: "=HYPERLINK(\"http://x\")", DomainName: "acme_evil_corp", AssociationType: "2"}, tenants.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	rows := func(token, query string) (gatewaytest.Response, [][]string) {
		t.Helper()
		r := e.API(t, "GET", "/admin/v1/tenants/acme/customers?format=csv"+query, token, "")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil || len(recs) == 0 || !slices.Equal(recs[0], tenants.CustomerCSVHeader) {
			t.Fatalf("csv %q %v", r.Body, err)
		}
		return r, recs[1:]
	}
	r, all := rows(e.Token(t, "pa-acme"), "")
	if ct, cd := r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		cd != `attachment; filename="customers-acme.csv"` || r.Header.Get("Export-Truncated") != "false" || r.Header.Get("Export-Rows") != "4" {
		t.Fatalf("headers %v", r.Header)
	}
	if len(all) != 4 {
		t.Fatalf("rows %q", all)
	}
	for _, row := range all {
		if row[0] == evil.DomainID && row[3] != `'=HYPERLINK("http://x")` {
			t.Fatalf("formula not neutralized: %q", row)
		}
	}
	if _, some := rows(e.Token(t, "pa-acme"), "&q=acme_y"); len(some) != 1 || some[0][0] != e.Cust["Y"].DomainID || some[0][6] != "someone-else" {
		t.Fatalf("filtered export %q", some)
	}
	if _, mine := rows(e.Token(t, "cm-acme"), ""); len(mine) != 1 || mine[0][0] != e.Cust["X"].DomainID {
		t.Fatalf("manager's export %q", mine)
	}
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/customers?format=csv", e.Token(t, "cm-globex"), ""); r.Status != 403 {
		t.Fatalf("other tenant's manager: %d", r.Status)
	}
}
