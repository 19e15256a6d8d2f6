package objstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetrics: calls are timed by operation and failures counted by kind;
// a missing object is not a failure; a call past the store timeout counts
// as unavailable.
func TestMetrics(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	s := WithMetrics(WithTimeout(d, time.Second), m)
	ctx := context.Background()
	o, err := s.Put(ctx, "a/b.json", strings.NewReader("{}"), 2, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "a/b.json", strings.NewReader("{}"), 2, PutOptions{IfMatch: o.ETag + "x"}); err == nil {
		t.Fatal("stale CAS accepted")
	}
	if _, err := s.Stat(ctx, "a/missing.json"); err == nil {
		t.Fatal("stat of a missing key succeeded")
	}
	if _, err := s.List(ctx, "/bad"); err == nil {
		t.Fatal("bad prefix accepted")
	}
	rc, _, err := s.Get(ctx, "a/b.json")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	late, cancel := context.WithTimeout(ctx, -time.Second) // already past: the store is "too slow"
	defer cancel()
	_ = s.Ping(late)

	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	errs, counts := map[string]float64{}, map[string]uint64{}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			k := strings.Join(labels, "/")
			switch f.GetName() {
			case "livery_store_errors_total":
				if v := s.GetCounter().GetValue(); v > 0 {
					errs[k] = v
				}
			case "livery_store_operation_duration_seconds":
				counts[k] = s.GetHistogram().GetSampleCount()
			}
		}
	}
	wantErrs := map[string]float64{"precondition_failed/put": 1, "invalid_key/list": 1, "unavailable/ping": 1}
	if len(errs) != len(wantErrs) {
		t.Errorf("errors %v, want %v", errs, wantErrs)
	}
	for k, v := range wantErrs {
		if errs[k] != v {
			t.Errorf("errors[%s] = %v, want %v (all: %v)", k, errs[k], v, errs)
		}
	}
	for op, n := range map[string]uint64{"put": 2, "stat": 1, "list": 1, "get": 1, "ping": 1, "delete": 0} {
		if counts[op] != n {
			t.Errorf("%s timed %d times, want %d", op, counts[op], n)
		}
	}
}
