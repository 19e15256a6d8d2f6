package delegation_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/delegation"
	"github.com/livery/livery/tenants"
)

var queryTests = []testCase{
	{"list pages newest first with filters", testListPaging},
}

var actionTests = []testCase{
	{"activity log: record, page, filter, CSV", testActions},
}

var reminderTests = []testCase{
	{"reminders at 7 days and 1 day, once each; sweep records expiry", testReminders},
}

func testListPaging(t *testing.T, e *env) {
	var ids []string
	for i := range 5 { // five decided grants of resale, then one pending of resale2
		g := e.request(t, input(resale))
		if i%2 == 0 {
			_, err := e.svc.Withdraw(e.ctx, tenant, g.ID, admin)
			mustOK(t, err)
		} else {
			_, err := e.svc.Reject(e.ctx, tenant, g.ID, cust, "")
			mustOK(t, err)
		}
		ids = append(ids, g.ID)
	}
	ids = append(ids, e.request(t, input(resale2)).ID)
	slices.Reverse(ids)
	var got []string
	q := delegation.Query{Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		p, err := e.svc.List(e.ctx, tenant, q)
		mustOK(t, err)
		for _, g := range p.Grants {
			got = append(got, g.ID)
		}
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("paged %v; want newest first %v", got, ids)
	}
	p, err := e.svc.List(e.ctx, tenant, delegation.Query{Customer: resale, State: delegation.StateRejected})
	mustOK(t, err)
	if len(p.Grants) != 2 || p.Grants[0].ID != ids[2] || p.Grants[1].ID != ids[4] {
		t.Fatalf("rejected of resale = %d grants", len(p.Grants))
	}
	p, err = e.svc.List(e.ctx, tenant, delegation.Query{State: delegation.StateRequested})
	mustOK(t, err)
	if len(p.Grants) != 1 || p.Grants[0].Customer != resale2 {
		t.Fatalf("requested = %+v", p.Grants)
	}
	_, err = e.svc.List(e.ctx, tenant, delegation.Query{Cursor: "bogus"})
	wantErr(t, err, delegation.ErrBadCursor)
	_, err = e.svc.List(e.ctx, tenant, delegation.Query{Limit: delegation.MaxLimit + 1})
	wantErr(t, err, delegation.ErrInvalidArgument)
	_, err = e.svc.List(e.ctx, tenant, delegation.Query{State: "active"})
	wantErr(t, err, delegation.ErrInvalidArgument)
	// Another tenant sees nothing.
	if p, _ := e.svc.List(e.ctx, "globex", delegation.Query{}); len(p.Grants) != 0 {
		t.Fatal("another tenant lists acme's grants")
	}
}

func testActions(t *testing.T, e *env) {
	g := e.active(t)
	base := delegation.ActionRecord{Grant: g.ID, Tenant: tenant, Customer: resale, Actor: manager}
	recs := []delegation.ActionRecord{
		{Method: "GET", Path: "/resources", Allowed: true},
		{Method: "POST", Path: "/resources/vm-1", Allowed: true, RequestID: "req-2"},
		{Method: "POST", Path: "/marketplace/orders", Allowed: false, Reason: "marketplace orders are never delegated"},
		{Method: "PUT", Path: "=HYPERLINK(\"http://evil\")", Allowed: false, Reason: "@SUM(1+1)", RequestID: "req-4"},
	}
	for i, r := range recs {
		a := base
		a.Method, a.Path, a.Allowed, a.Reason, a.RequestID = r.Method, r.Path, r.Allowed, r.Reason, r.RequestID
		a.At = t0.Add(time.Duration(i) * time.Minute)
		mustOK(t, e.svc.RecordAction(e.ctx, a))
		if a.RequestID != "" { // a retry is stored once
			mustOK(t, e.svc.RecordAction(e.ctx, a))
		}
	}
	bad := base
	bad.Method, bad.Path = "get", "/x"
	wantErr(t, e.svc.RecordAction(e.ctx, bad), delegation.ErrInvalidArgument)
	bad.Method, bad.Path = "GET", ""
	wantErr(t, e.svc.RecordAction(e.ctx, bad), delegation.ErrInvalidArgument)
	bad.Path, bad.Grant = "/x", "nope"
	wantErr(t, e.svc.RecordAction(e.ctx, bad), delegation.ErrInvalidArgument)

	var all []delegation.ActionRecord
	cursor := ""
	for {
		p, err := e.svc.Actions(e.ctx, tenant, resale, delegation.ActionFilter{}, cursor, 3)
		mustOK(t, err)
		all = append(all, p.Actions...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(all) != 4 || all[0].Path != recs[3].Path || all[3].Path != recs[0].Path {
		t.Fatalf("actions = %d, first %q; want 4 newest first", len(all), all[0].Path)
	}
	p, err := e.svc.Actions(e.ctx, tenant, resale, delegation.ActionFilter{Allowed: "denied"}, "", 0)
	mustOK(t, err)
	if len(p.Actions) != 2 {
		t.Fatalf("denied = %d; want 2", len(p.Actions))
	}
	p, err = e.svc.Actions(e.ctx, tenant, resale, delegation.ActionFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, "", 0)
	mustOK(t, err)
	if len(p.Actions) != 2 || p.Actions[0].Path != "/marketplace/orders" {
		t.Fatalf("window = %+v", p.Actions)
	}
	if p, _ := e.svc.Actions(e.ctx, tenant, resale2, delegation.ActionFilter{}, "", 0); len(p.Actions) != 0 {
		t.Fatal("another customer's log is not empty")
	}
	_, err = e.svc.Actions(e.ctx, tenant, resale, delegation.ActionFilter{}, "x", 0)
	wantErr(t, err, delegation.ErrBadCursor)
	// A failing store is reported, so the gateway can refuse the mutation.
	e.store.failNextPuts("/actions/", 1)
	a := base
	a.Method, a.Path = "DELETE", "/resources/vm-1"
	wantErr(t, e.svc.RecordAction(e.ctx, a), errInjected)

	var buf bytes.Buffer
	mustOK(t, delegation.WriteActionsCSV(&buf, all))
	rows, err := csv.NewReader(&buf).ReadAll()
	mustOK(t, err)
	if !slices.Equal(rows[0], delegation.ActionCSVHeader) || len(rows) != 5 {
		t.Fatalf("csv rows = %v", rows)
	}
	evil := rows[1]
	if evil[3] != `'=HYPERLINK("http://evil")` || evil[5] != "'@SUM(1+1)" || evil[4] != "false" {
		t.Fatalf("formula cells not neutralized: %q", evil)
	}
	if !strings.HasSuffix(buf.String(), "") || rows[4][3] != "/resources" {
		t.Fatalf("plain cell changed: %q", rows[4])
	}
}

// TestSafeCSVCellMatchesTenants keeps the CSV rule the same as the
// customer export's.
func TestSafeCSVCellMatchesTenants(t *testing.T) {
	for _, v := range []string{"", "x", "=1", " =1", "+1", "-1", "@a", "\tx", "  ", "a=b", "'=x"} {
		var buf bytes.Buffer
		rec := delegation.ActionRecord{Path: v, At: t0}
		if err := delegation.WriteActionsCSV(&buf, []delegation.ActionRecord{rec}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rows[1][3], tenants.SafeCSVCell(v); got != want {
			t.Errorf("%q: %q; tenants.SafeCSVCell gives %q", v, got, want)
		}
	}
}

func testReminders(t *testing.T, e *env) {
	g := e.active(t) // 30 days
	in := input(resale2)
	in.Duration = 3 * 24 * time.Hour // shorter than 7 days: only the 1-day reminder
	short := e.request(t, in)
	_, err := e.svc.Approve(e.ctx, tenant, short.ID, cust2)
	mustOK(t, err)
	sweep := func(at time.Time) []string {
		t.Helper()
		rs, err := e.svc.Reminders(e.ctx, tenant, at)
		mustOK(t, err)
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s:%s", r.Grant.Customer, r.Kind))
		}
		slices.Sort(out)
		return out
	}
	if got := sweep(e.clock.Now()); len(got) != 0 {
		t.Fatalf("fresh grants reminded: %v", got)
	}
	at := g.EndsAt.Add(-7*24*time.Hour + time.Minute)
	if got := sweep(at); !slices.Equal(got, []string{resale + ":" + delegation.KindEnding7d}) {
		t.Fatalf("at 7 days: %v", got)
	}
	if got := sweep(at.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("repeated 7-day reminder: %v", got)
	}
	at = short.RequestedAt.Add(2*24*time.Hour + time.Hour)
	if got := sweep(at); !slices.Equal(got, []string{resale2 + ":" + delegation.KindEnding1d}) {
		t.Fatalf("short grant at 1 day: %v", got)
	}
	e.clock.Advance(g.Duration - 12*time.Hour) // 12 hours left on g, short has ended
	if got := sweep(e.clock.Now()); !slices.Equal(got, []string{resale + ":" + delegation.KindEnding1d}) {
		t.Fatalf("at 1 day: %v", got)
	}
	if c := count(e.events(t, resale2), delegation.EventExpired); c != 1 {
		t.Fatalf("the sweep did not record the short grant's expiry: %v", e.events(t, resale2))
	}
	if got := sweep(e.clock.Now()); len(got) != 0 {
		t.Fatalf("repeated: %v", got)
	}
	if n := count(e.told.kinds(), delegation.KindEnding1d+":both") + count(e.told.kinds(), delegation.KindEnding7d+":both"); n != 3 {
		t.Fatalf("announced %d reminders; want 3: %v", n, e.told.kinds())
	}
}
