package mypartners_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/mypartners"
)

// TestActivityLog: the customer's activity log shows every delegated
// action (who, when, method, path, allowed or denied and why), escaped,
// newest first, filtered by actor, result and dates, paged; the CSV
// export is an attachment with the same filters and formula cells
// neutralized; another customer's actions never show.
func TestActivityLog(t *testing.T) {
	e := gatewaytest.NewPartnersEnv(t)
	ctx := context.Background()
	g := e.Request(t, "X", 30*day, "ops", delegation.ScopeResources)
	if _, err := e.Delegation.Approve(ctx, "acme", g.ID, e.CustomerOf("X")); err != nil {
		t.Fatal(err)
	}
	x := e.Cust["X"].DomainID
	base := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	rec := func(actor, method, path string, allowed bool, reason string, at time.Time, customer string) {
		t.Helper()
		if err := e.Delegation.RecordAction(ctx, delegation.ActionRecord{Grant: g.ID, Tenant: "acme", Customer: customer,
			Actor: authz.Subject{User: actor, Tenant: "acme"}, Method: method, Path: path, Allowed: allowed, Reason: reason, At: at,
			RequestID: fmt.Sprintf("req-%d", at.UnixNano())}); err != nil {
			t.Fatal(err)
		}
	}
	rec("pa-acme", "GET", "/resources", true, "", base, x)
	rec("cm-acme", "POST", "/market/orders", false, "missing scope billing", base.Add(day), x)
	rec("pa-acme", "POST", `=HYPERLINK("http://evil.example")`, true, "<img src=x>", base.Add(2*day), x)
	rec("pa-acme", "GET", "/secret-of-y", true, "", base.Add(day), e.Cust["Y"].DomainID)
	c, _ := e.CustomerSignIn(t)

	r := page(t, e, c, mypartners.ActivityPath)
	wantStatus(t, "activity", r, 200)
	wantIn(t, "activity", r.Body, `id="livery-chrome"`, "Activity log", "2026-03-12 09:00:00", "cm-acme", "/market/orders",
		"Denied", "missing scope billing", "&lt;img src=x&gt;", "=HYPERLINK(&#34;http://evil.example&#34;)", `href="/_livery/partners/activity.csv"`)
	wantNotIn(t, "activity", r.Body, "<img src=x>", "/secret-of-y", `id="lp-next"`)
	if i, j := strings.Index(r.Body, "2026-03-12"), strings.Index(r.Body, "2026-03-10"); i < 0 || j < 0 || i > j {
		t.Error("not newest first")
	}
	for _, tc := range []struct {
		query     string
		want, not []string
	}{
		{"?actor=cm-acme", []string{"/market/orders"}, []string{"/resources<", "HYPERLINK"}},
		{"?result=denied", []string{"/market/orders"}, []string{"HYPERLINK", ">/resources<"}},
		{"?result=allowed", []string{">/resources<", "HYPERLINK"}, []string{"/market/orders"}},
		{"?since=2026-03-11&until=2026-03-11", []string{"/market/orders"}, []string{">/resources<", "HYPERLINK"}},
		{"?since=2026-03-12", []string{"HYPERLINK"}, []string{">/resources<", "/market/orders"}},
		{"?actor=nobody", []string{`id="lp-actions-none"`}, []string{"/market/orders"}},
	} {
		r := page(t, e, c, mypartners.ActivityPath+tc.query)
		wantStatus(t, tc.query, r, 200)
		wantIn(t, tc.query, r.Body, tc.want...)
		wantNotIn(t, tc.query, r.Body, tc.not...)
	}
	for _, q := range []string{"?result=maybe", "?since=yesterday", "?until=2026-13-01", "?cursor=bogus"} {
		wantStatus(t, "bad filter "+q, page(t, e, c, mypartners.ActivityPath+q), http.StatusBadRequest)
	}
	zh := page(t, e, c, mypartners.ActivityPath, "Accept-Language", "zh")
	wantIn(t, "activity zh", zh.Body, "操作记录", "已拒绝", "导出 CSV")

	// The export: an attachment, every matching row, formulas neutralized.
	r = page(t, e, c, mypartners.ExportPath)
	wantStatus(t, "export", r, 200)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="activity-`+x+`-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, r.Body)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(delegation.ActionCSVHeader, ",") {
		t.Fatalf("CSV rows: %q", rows)
	}
	if rows[1][3] != `'=HYPERLINK("http://evil.example")` || rows[1][5] != "<img src=x>" || rows[3][3] != "/resources" {
		t.Errorf("CSV rows (newest first, formula neutralized): %q", rows)
	}
	if strings.Contains(r.Body, "secret-of-y") {
		t.Error("another customer's action in the export")
	}
	r = page(t, e, c, mypartners.ExportPath+"?result=denied")
	rows, _ = csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if len(rows) != 2 || rows[1][1] != "cm-acme" || rows[1][4] != "false" {
		t.Errorf("filtered export: %q", rows)
	}
	wantStatus(t, "bad export filter", page(t, e, c, mypartners.ExportPath+"?result=maybe"), http.StatusBadRequest)
}

// TestActivityPaging: a page holds DefaultLimit entries and links to the
// older ones with the filters kept; the export holds them all.
func TestActivityPaging(t *testing.T) {
	e := gatewaytest.NewPartnersEnv(t)
	ctx := context.Background()
	g := e.Request(t, "X", 30*day, "ops", delegation.ScopeResources)
	x := e.Cust["X"].DomainID
	n := delegation.DefaultLimit + 5
	base := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for i := range n {
		if err := e.Delegation.RecordAction(ctx, delegation.ActionRecord{Grant: g.ID, Tenant: "acme", Customer: x,
			Actor: authz.Subject{User: "pa-acme", Tenant: "acme"}, Method: "GET", Path: fmt.Sprintf("/resources/r%02d", i),
			Allowed: true, At: base.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("req-%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := e.CustomerSignIn(t)
	r := page(t, e, c, mypartners.ActivityPath+"?result=allowed")
	wantStatus(t, "first page", r, 200)
	if got := strings.Count(r.Body, "/resources/r"); got != delegation.DefaultLimit {
		t.Fatalf("first page has %d rows", got)
	}
	wantIn(t, "first page", r.Body, fmt.Sprintf("/resources/r%02d", n-1), `id="lp-next"`)
	i := strings.Index(r.Body, `id="lp-next" href="`)
	next := r.Body[i+len(`id="lp-next" href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	if !strings.Contains(next, "result=allowed") || !strings.Contains(next, "cursor=") {
		t.Fatalf("next link %q", next)
	}
	r = page(t, e, c, next)
	wantStatus(t, "second page", r, 200)
	if got := strings.Count(r.Body, "/resources/r"); got != 5 {
		t.Fatalf("second page has %d rows", got)
	}
	wantIn(t, "second page", r.Body, "/resources/r00", "/resources/r04")
	wantNotIn(t, "second page", r.Body, "/resources/r05", `id="lp-next"`)
	r = page(t, e, c, mypartners.ExportPath)
	if rows, _ := csv.NewReader(strings.NewReader(r.Body)).ReadAll(); len(rows) != n+1 {
		t.Fatalf("export has %d rows, want %d", len(rows), n+1)
	}
}

func TestReasonText(t *testing.T) {
	for _, tc := range []struct{ lang, in, want string }{
		{"zh", "not allowed under any delegated scope", "任何代客运维权限都不允许此操作"},
		{"zh", "missing scope: security", "缺少权限：重置密码、修改策略"},
		{"zh", "missing scope: resources or power", "缺少权限：管理资源 或 开机、关机、重启、删除"},
		{"en", "missing scope: security", "missing scope: security"},
		{"zh", "something else", "something else"},
	} {
		if got := mypartners.ReasonText(tc.lang, tc.in); got != tc.want {
			t.Errorf("reasonText(%s, %q) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
}
