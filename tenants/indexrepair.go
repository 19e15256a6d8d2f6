package tenants

import (
	"context"
	"errors"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// Index repair. The query index (Redis) and the customer records (the
// object store) are written separately, so a Redis failure would leave an
// acknowledged customer that query cannot find. A registration therefore
// indexes the customer before it activates the record; only when that
// index write fails does it write a durable to-do — a repair marker in the
// object store — still before the activation (a registration that dies in
// between leaves a pending record, which its retry completes and indexes).
// Other index writes (a retry of a finished registration, a manager
// change) write the marker after a failed index write. A repairer
// (RunIndexRepair, on every instance) indexes each marked customer as soon
// as Redis accepts the write again, and removes the marker.

// repairPrefix holds the repair markers of every tenant, so that one list
// finds them all.
const repairPrefix = "index-repair/"

// repairMarker is the durable to-do: index the customer stored at Key.
type repairMarker struct {
	Tenant      string `json:"tenant"`
	CustomerKey string `json:"customer_key"`
}

func repairKey(customerKey string) string { return repairPrefix + hashHex(customerKey)[:40] + ".json" }

// Deadlines of index and repair calls (each Redis and store call), and the
// repairer's pace: a full scan every repairIdle (markers left by other
// instances), and after a failed pass retries from repairMinBackoff
// doubling up to repairMaxBackoff.
const (
	indexCallTimeout  = 2 * time.Second
	repairCallTimeout = 5 * time.Second
	repairIdle        = 10 * time.Second
	repairMinBackoff  = 200 * time.Millisecond
	repairMaxBackoff  = 5 * time.Second
)

// markForIndex writes the repair marker of a customer. Errors are the
// store's.
func (s *Customers) markForIndex(ctx context.Context, c *Customer) error {
	key := CustomerKey(c.Tenant, c.XAccountType, c.XAccountID)
	ctx, cancel := context.WithTimeout(ctx, repairCallTimeout)
	defer cancel()
	_, err := objstore.PutJSON(ctx, s.o.Store, repairKey(key), repairMarker{Tenant: c.Tenant, CustomerKey: key}, objstore.PutOptions{})
	return err
}

// indexBeforeActivation indexes c (a registration about to be activated);
// when the index refuses, it writes c's durable to-do instead (marked).
// Errors: ErrUnavailable when neither could be written, and the
// registration then stays reserved for a retry.
func (s *Customers) indexBeforeActivation(ctx context.Context, c *Customer) (marked bool, err error) {
	ictx, cancel := context.WithTimeout(ctx, indexCallTimeout)
	err = s.o.Index.Put(ictx, c)
	cancel()
	if err == nil {
		return false, nil
	}
	s.o.Logger.Warn("customer index update failed; queued for repair", "tenant", c.Tenant, "err", err)
	if err := s.markForIndex(ctx, c); err != nil {
		return false, unavailable("mark for index", err)
	}
	return true, nil
}

// kickRepair wakes this instance's repairer (RunIndexRepair).
func (s *Customers) kickRepair() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// index updates the query index. On success the customer's repair marker
// (if marked) is removed; on failure a marker is ensured and the local
// repairer woken, so the index is repaired without a retry of the request.
// Failures are logged, not returned: the customer record is what counts.
func (s *Customers) index(ctx context.Context, c *Customer, marked bool) {
	ictx, cancel := context.WithTimeout(ctx, indexCallTimeout)
	err := s.o.Index.Put(ictx, c)
	cancel()
	if err == nil {
		if marked {
			s.unmark(ctx, CustomerKey(c.Tenant, c.XAccountType, c.XAccountID))
		}
		return
	}
	s.o.Logger.Warn("customer index update failed; queued for repair", "tenant", c.Tenant, "err", err)
	if !marked {
		if merr := s.markForIndex(ctx, c); merr != nil {
			s.o.Logger.Error("customer index repair marker not written: run livery reindex", "tenant", c.Tenant, "err", merr)
		}
	}
	s.kickRepair()
}

func (s *Customers) unmark(ctx context.Context, customerKey string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), repairCallTimeout)
	defer cancel()
	if err := s.o.Store.Delete(ctx, repairKey(customerKey)); err != nil {
		s.o.Logger.Warn("customer index repair marker not removed (the repairer will)", "err", err)
	}
}

// RepairIndex makes one pass over the repair markers: each active customer
// is indexed and its marker removed; each unbound one (StateUnbound) is
// removed from the index with its marker; markers of customers that no
// longer exist are removed; customers still pending keep theirs (their
// registration indexes them when it completes). It returns how many
// markers remain and the first error met (ErrUnavailable-wrapped).
func (s *Customers) RepairIndex(ctx context.Context) (remaining int, err error) {
	lctx, cancel := context.WithTimeout(ctx, repairCallTimeout)
	objs, err := s.o.Store.List(lctx, repairPrefix)
	cancel()
	if err != nil {
		return 0, unavailable("list index repairs", err)
	}
	var first error
	for _, o := range objs {
		if ctx.Err() != nil {
			return len(objs), ctx.Err()
		}
		done, err := s.repairOne(ctx, o.Key)
		if !done {
			remaining++
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return remaining, first
}

func (s *Customers) repairOne(ctx context.Context, markerKey string) (done bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, repairCallTimeout)
	defer cancel()
	m, _, err := objstore.GetJSON[repairMarker](cctx, s.o.Store, markerKey)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return true, nil
	case err != nil:
		return false, unavailable("read index repair", err)
	}
	c, _, err := objstore.GetJSON[Customer](cctx, s.o.Store, m.CustomerKey)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
	case err != nil:
		return false, unavailable("read customer", err)
	case c.State == StateUnbound:
		ictx, icancel := context.WithTimeout(ctx, indexCallTimeout)
		err := s.o.Index.Remove(ictx, c.Tenant, c.DomainName)
		icancel()
		if err != nil {
			return false, unavailable("unindex customer", err)
		}
	case c.State != StateActive:
		return false, nil
	default:
		ictx, icancel := context.WithTimeout(ctx, indexCallTimeout)
		err := s.o.Index.Put(ictx, &c)
		icancel()
		if err != nil {
			return false, unavailable("index customer", err)
		}
	}
	if err := s.o.Store.Delete(cctx, markerKey); err != nil {
		return false, unavailable("remove index repair", err)
	}
	return true, nil
}

// RunIndexRepair repairs the index until ctx ends: a pass every repairIdle,
// at once when this instance's index write failed, and after a failed pass
// again with backoff (repairMinBackoff doubling to repairMaxBackoff) until
// a pass succeeds. It returns when ctx is done. Every store and Redis call
// it makes has its own deadline.
func (s *Customers) RunIndexRepair(ctx context.Context) {
	wait, backoff := repairIdle, time.Duration(0)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.kick:
			timer.Stop()
		}
		remaining, err := s.RepairIndex(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			backoff = min(max(2*backoff, repairMinBackoff), repairMaxBackoff)
			wait = backoff
			s.o.Logger.Warn("customer index repair pass failed; retrying", "remaining", remaining, "retry_in", wait.String(), "err", err)
		default:
			wait, backoff = repairIdle, 0
		}
		timer.Reset(wait)
	}
}
