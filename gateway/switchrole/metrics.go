package switchrole

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// activeWindow is how recently a delegated session must have made a
// request on this instance to count as active.
const activeWindow = 5 * time.Minute

// maxTracked bounds the sessions the activity gauge remembers.
const maxTracked = 10000

// stats counts delegated requests by outcome and remembers when each
// delegated session was last seen on this instance.
type stats struct {
	allowed, denied, ended, auditFailed atomic.Uint64

	mu   sync.Mutex
	seen map[string]time.Time // session id → last request; guarded by mu
}

func (st *stats) saw(id string, at time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.seen == nil {
		st.seen = map[string]time.Time{}
	}
	if _, ok := st.seen[id]; !ok && len(st.seen) >= maxTracked {
		st.expire(at)
		if len(st.seen) >= maxTracked {
			return
		}
	}
	st.seen[id] = at
}

func (st *stats) gone(id string) {
	st.mu.Lock()
	delete(st.seen, id)
	st.mu.Unlock()
}

// expire drops sessions not seen within activeWindow of now; mu is held.
func (st *stats) expire(now time.Time) {
	for id, t := range st.seen {
		if now.Sub(t) > activeWindow {
			delete(st.seen, id)
		}
	}
}

func (st *stats) active(now time.Time) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire(now)
	return len(st.seen)
}

// Collectors are the switch role's metrics, for the gateway's registry:
//
//	livery_delegated_sessions_active   delegated sessions that made a request on this
//	                                   instance in the last 5 minutes (ended ones leave at once)
//	livery_delegated_requests_total{result}   allowed | denied (scope) | ended (grant or
//	                                   session over) | audit_failed (refused, 503)
func (s *Service) Collectors() []prometheus.Collector {
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livery_delegated_sessions_active",
		Help: "Delegated sessions (staff operating a customer's console) that made a request on this instance in the last 5 minutes."},
		func() float64 { return float64(s.stats.active(s.o.Now())) })
	desc := prometheus.NewDesc("livery_delegated_requests_total", "Delegated requests by outcome.", []string{"result"}, nil)
	return []prometheus.Collector{active, requestsCollector{desc: desc, st: &s.stats}}
}

type requestsCollector struct {
	desc *prometheus.Desc
	st   *stats
}

func (r requestsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

func (r requestsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range []struct {
		result string
		n      *atomic.Uint64
	}{{"allowed", &r.st.allowed}, {"denied", &r.st.denied}, {"ended", &r.st.ended}, {"audit_failed", &r.st.auditFailed}} {
		ch <- prometheus.MustNewConstMetric(r.desc, prometheus.CounterValue, float64(v.n.Load()), v.result)
	}
}
