package association_test

import (
	"slices"
	"testing"
	"time"

	"github.com/livery/livery/association"
)

var managerTests = []testCase{
	{"manager periods: history and managed-on-date queries", testManagerPeriods},
	{"manager periods: idempotent, reassignment opens a new period", testManagerReassign},
}

func day(n int) time.Time { return t0.AddDate(0, 0, n) }

func testManagerPeriods(t *testing.T, e *env) {
	set := func(at time.Time, c string, ms ...string) {
		t.Helper()
		e.clock.Set(at)
		_, err := e.svc.SetManagers(e.ctx, tenant, c, ms, admin)
		mustOK(t, err)
	}
	set(day(0), "c-cindy", "m1")
	set(day(2), "c-cindy", "m1", "m2")
	set(day(4), "c-cindy", "m2")
	set(day(6), "c-cindy")
	set(day(3), "c-dora", "m1")
	h, err := e.svc.History(e.ctx, tenant, "c-cindy")
	mustOK(t, err)
	if len(h) != 2 || h[0].Manager != "m1" || h[1].Manager != "m2" || h[0].To.IsZero() || h[1].To.IsZero() ||
		!h[0].From.After(day(0)) || !h[0].To.After(day(4)) || h[0].FromBy.User != admin.User {
		t.Fatalf("history %+v", h)
	}
	managersOn := []struct {
		d    time.Time
		want []string
	}{
		{day(-1), []string{}},
		{day(0), []string{"m1"}},
		{day(2), []string{"m1", "m2"}},
		{day(4), []string{"m1", "m2"}}, // m1 removed during the day
		{day(5), []string{"m2"}},
		{day(7), []string{}},
	}
	for _, c := range managersOn {
		got, err := e.svc.ManagersOn(e.ctx, tenant, "c-cindy", c.d)
		mustOK(t, err)
		if !slices.Equal(got, c.want) {
			t.Fatalf("ManagersOn(%v) = %v; want %v", c.d, got, c.want)
		}
	}
	customersOn := []struct {
		m    string
		d    time.Time
		want []string
	}{
		{"m1", day(1), []string{"c-cindy"}},
		{"m1", day(3), []string{"c-cindy", "c-dora"}},
		{"m1", day(5), []string{"c-dora"}},
		{"m2", day(1), []string{}},
		{"m2", day(6), []string{"c-cindy"}},
		{"m3", day(1), []string{}},
	}
	for _, c := range customersOn {
		got, err := e.svc.CustomersOn(e.ctx, tenant, c.m, c.d)
		mustOK(t, err)
		if !slices.Equal(got, c.want) {
			t.Fatalf("CustomersOn(%s, %v) = %v; want %v", c.m, c.d, got, c.want)
		}
	}
	// Another tenant sees none of it.
	if got, _ := e.svc.CustomersOn(e.ctx, other, "m1", day(3)); len(got) != 0 {
		t.Fatalf("other tenant sees %v", got)
	}
	_, err = e.svc.SetManagers(e.ctx, tenant, "c-cindy", []string{""}, admin)
	wantErr(t, err, association.ErrInvalid)
}

func testManagerReassign(t *testing.T, e *env) {
	for range 2 {
		_, err := e.svc.SetManagers(e.ctx, tenant, "c-cindy", []string{"m1"}, admin)
		mustOK(t, err)
	}
	e.clock.Advance(time.Hour)
	_, err := e.svc.SetManagers(e.ctx, tenant, "c-cindy", nil, admin)
	mustOK(t, err)
	e.clock.Advance(time.Hour)
	h, err := e.svc.SetManagers(e.ctx, tenant, "c-cindy", []string{"m1"}, admin)
	mustOK(t, err)
	if len(h) != 2 || h[0].To.IsZero() || !h[1].To.IsZero() {
		t.Fatalf("periods %+v", h)
	}
	if n := count(e.events(t, tenant, "c-cindy"), association.EventManagerPeriod); n != 3 {
		t.Fatalf("%d period records; want 3 (the repeated call writes none)", n)
	}
}
