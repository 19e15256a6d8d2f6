package web

import (
	"testing"
	"time"
)

// Tenants that leave the table leave no series behind: the label sets stay
// bounded by the tenants served now.
func TestForgetTenantDropsItsSeries(t *testing.T) {
	m := NewMetrics()
	for _, tenant := range []string{"gone", "kept"} {
		m.ObserveRequest("console", tenant, 200, time.Millisecond)
		m.UpstreamErrors.WithLabelValues(tenant, "timeout").Inc()
		m.ClientAborts.WithLabelValues("console", tenant).Inc()
		m.Unbranded.WithLabelValues(tenant).Inc()
	}
	m.ForgetTenant("gone")
	series := func(tenant string) int {
		mfs, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, mf := range mfs {
			for _, s := range mf.GetMetric() {
				for _, l := range s.GetLabel() {
					if l.GetName() == "tenant" && l.GetValue() == tenant {
						n++
					}
				}
			}
		}
		return n
	}
	if n := series("gone"); n != 0 {
		t.Errorf("%d series of a forgotten tenant remain", n)
	}
	if n := series("kept"); n != 5 {
		t.Errorf("%d series of the kept tenant; want 5 (requests, duration, upstream errors, aborts, unbranded)", n)
	}
	// Counting again after forgetting starts afresh (no stale cached instrument).
	m.ObserveRequest("console", "gone", 200, time.Millisecond)
	if n := series("gone"); n != 2 {
		t.Errorf("%d series after a new request; want 2", n)
	}
}
