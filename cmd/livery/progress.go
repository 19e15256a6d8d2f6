package main

import (
	"fmt"
	"io"
	"time"
)

// progress prints a long run's progress to w ("tenant acme: 12000/50000
// customers read, 2400/s"), at most once per every: a run shorter than
// every prints nothing, and the last line of a tenant that printed any is
// its total. now is the clock (tests).
type progress struct {
	w     io.Writer
	every time.Duration
	now   func() time.Time

	tenant       string
	start, shown time.Time
	printed      bool
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, every: time.Second, now: time.Now}
}

// update is a tenants.Customers.ReindexProgress callback for tenant.
func (p *progress) update(tenant string, read, total int) {
	t := p.now()
	if tenant != p.tenant {
		p.tenant, p.start, p.shown, p.printed = tenant, t, t, false
	}
	final := read == total
	if t.Sub(p.shown) < p.every && !(final && p.printed) {
		return
	}
	if final && !p.printed && t.Sub(p.start) < p.every {
		return
	}
	p.shown, p.printed = t, true
	rate := 0.0
	if s := t.Sub(p.start).Seconds(); s > 0 {
		rate = float64(read) / s
	}
	fmt.Fprintf(p.w, "tenant %s: %d/%d customers read (%.0f%%), %.0f/s\n", tenant, read, total, 100*float64(read)/float64(max(total, 1)), rate)
}
