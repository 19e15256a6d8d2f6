package delegation

import (
	"context"
	"fmt"
	"time"
)

// pointer is the object under pending/<customer>.json and
// active/<customer>.json. It is never deleted: clearing sets GrantID to
// "" and Cleared to the id it held, so every state has distinct content
// (and ETag) and every transition is a conditional write.
type pointer struct {
	GrantID string    `json:"grant_id"`
	Since   time.Time `json:"since,omitzero"`
	Cleared string    `json:"cleared,omitempty"`
}

func (s *Service) pointer(ctx context.Context, key string) (pointer, string, error) {
	p, etag, _, err := getJSON[pointer](ctx, s.store, key)
	return p, etag, err
}

// grant reads grant id; found is false for a malformed or missing id.
func (s *Service) grant(ctx context.Context, tenant, id string) (Grant, bool, error) {
	if !ValidGrantID(id) {
		return Grant{}, false, nil
	}
	g, etag, found, err := getJSON[Grant](ctx, s.store, grantKey(tenant, id))
	g.ETag = etag
	return g, found, err
}

// swapGrant is the compare-and-swap loop on a grant: change returns the
// next grant, or apply=false to leave it alone (then the current grant is
// returned). Each attempt re-reads the grant, so change sees the current
// state.
func (s *Service) swapGrant(ctx context.Context, tenant, id string, change func(cur Grant) (Grant, bool, error)) (Grant, bool, error) {
	for range 16 {
		cur, found, err := s.grant(ctx, tenant, id)
		if err != nil {
			return Grant{}, false, err
		}
		if !found {
			return Grant{}, false, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		next, apply, err := change(cur)
		if err != nil || !apply {
			return cur, false, err
		}
		next.Seq = cur.Seq + 1
		etag, err := s.putJSON(ctx, grantKey(tenant, id), next, condition(cur.ETag))
		if !isPrecondition(err) {
			if err != nil {
				return Grant{}, false, fmt.Errorf("delegation: store grant: %w", err)
			}
			next.ETag = etag
			s.changed(ctx, tenant, id)
			return next, true, nil
		}
	}
	return Grant{}, false, fmt.Errorf("delegation: grant %s of %s: too much contention", id, tenant)
}

// clear clears the pointer at key if it still names id; cleared reports
// whether this call cleared it.
func (s *Service) clear(ctx context.Context, key, id string) (cleared bool, err error) {
	for range 16 {
		p, etag, err := s.pointer(ctx, key)
		if err != nil || p.GrantID != id {
			return false, err
		}
		_, err = s.putJSON(ctx, key, pointer{Cleared: id}, condition(etag))
		if !isPrecondition(err) {
			if err != nil {
				return false, fmt.Errorf("delegation: clear %s: %w", key, err)
			}
			return true, nil
		}
	}
	return false, fmt.Errorf("delegation: clearing %s: too much contention", key)
}

// point sets the pointer at key to id unless it names id already.
func (s *Service) point(ctx context.Context, key, id string, since time.Time) error {
	for range 16 {
		p, etag, err := s.pointer(ctx, key)
		if err != nil || p.GrantID == id {
			return err
		}
		_, err = s.putJSON(ctx, key, pointer{GrantID: id, Since: since}, condition(etag))
		if !isPrecondition(err) {
			if err != nil {
				return fmt.Errorf("delegation: set %s: %w", key, err)
			}
			return nil
		}
	}
	return fmt.Errorf("delegation: setting %s: too much contention", key)
}

// pointers is a customer's settled state: the pending request and the
// active grant (each nil when none) and the pending pointer's ETag.
type pointers struct {
	pending     *Grant
	pendingETag string
	active      *Grant
}

// settle completes whatever a crash (or a lapse of time) left behind for
// one customer, then returns its pending request and active grant. See
// "Crash safety" in the package documentation.
func (s *Service) settle(ctx context.Context, tenant, customer string) (pointers, error) {
	var out pointers
	if err := s.settlePending(ctx, tenant, customer, &out); err != nil {
		return out, err
	}
	return out, s.settleActive(ctx, tenant, customer, &out)
}

func (s *Service) settlePending(ctx context.Context, tenant, customer string, out *pointers) error {
	key := pendingKey(tenant, customer)
	for range 4 {
		p, etag, err := s.pointer(ctx, key)
		if err != nil {
			return err
		}
		out.pendingETag = etag
		if p.GrantID == "" {
			return nil
		}
		g, found, err := s.grant(ctx, tenant, p.GrantID)
		if err != nil {
			return err
		}
		if !found {
			// Cannot happen (the grant is written first); never let a
			// dangling pointer block the customer.
			s.log.Error("delegation: pending pointer names a missing grant; clearing it", "tenant", tenant, "grant", p.GrantID)
			if _, err := s.clear(ctx, key, p.GrantID); err != nil {
				return err
			}
			continue
		}
		now := s.clock()
		if g.State == StateRequested && g.StateAt(now) == StateRequested {
			out.pending = &g
			return nil
		}
		if g.State == StateRequested { // unanswered in time: record the expiry
			if g, _, err = s.swapGrant(ctx, tenant, g.ID, func(cur Grant) (Grant, bool, error) {
				if cur.State != StateRequested {
					return cur, false, nil
				}
				cur.State, cur.DecidedAt = StateRequestExpired, cur.RequestExpiresAt
				return cur, true, nil
			}); err != nil {
				return err
			}
		}
		if err := s.completeDecision(ctx, g); err != nil {
			return err
		}
	}
	return fmt.Errorf("delegation: pending pointer of %s/%s keeps changing", tenant, customer)
}

func (s *Service) settleActive(ctx context.Context, tenant, customer string, out *pointers) error {
	key := activeKey(tenant, customer)
	for range 4 {
		p, _, err := s.pointer(ctx, key)
		if err != nil || p.GrantID == "" {
			return err
		}
		g, found, err := s.grant(ctx, tenant, p.GrantID)
		if err != nil {
			return err
		}
		if !found {
			s.log.Error("delegation: active pointer names a missing grant; clearing it", "tenant", tenant, "grant", p.GrantID)
			if _, err := s.clear(ctx, key, p.GrantID); err != nil {
				return err
			}
			continue
		}
		if g.Active(s.clock()) {
			out.active = &g
			return nil
		}
		if err := s.completeEnd(ctx, g); err != nil {
			return err
		}
	}
	return fmt.Errorf("delegation: active pointer of %s/%s keeps changing", tenant, customer)
}

// completeDecision carries out a decided request (approved, rejected,
// withdrawn, expired); every step is idempotent, so it is safe to run
// again after a crash or concurrently: (approval) revoke the replaced
// grant and point the active pointer at this one; then audit; then clear
// the pending pointer (last, so an incomplete run is found and redone by
// settle); whoever clears it announces.
func (s *Service) completeDecision(ctx context.Context, g Grant) error {
	if g.State == StateApproved {
		if g.Replaces != "" {
			if err := s.revokeReplaced(ctx, g); err != nil {
				return err
			}
		}
		if err := s.point(ctx, activeKey(g.Tenant, g.Customer), g.ID, g.ApprovedAt); err != nil {
			return err
		}
	}
	if err := s.recordRequest(ctx, g); err != nil {
		return err
	}
	if err := s.recordDecision(ctx, g); err != nil {
		return err
	}
	cleared, err := s.clear(ctx, pendingKey(g.Tenant, g.Customer), g.ID)
	if err != nil {
		return err
	}
	if cleared {
		s.changed(ctx, g.Tenant, g.ID)
		s.announceDecision(ctx, g)
	}
	return nil
}

// revokeReplaced ends the grant g replaces, as of g's approval.
func (s *Service) revokeReplaced(ctx context.Context, g Grant) error {
	old, changed, err := s.swapGrant(ctx, g.Tenant, g.Replaces, func(cur Grant) (Grant, bool, error) {
		if cur.State != StateApproved || !cur.Active(g.ApprovedAt) {
			return cur, false, nil
		}
		by := *g.DecidedBy
		cur.State, cur.RevokedBy, cur.RevokedAt, cur.ReplacedBy = StateRevoked, &by, g.ApprovedAt, g.ID
		cur.RevokeReason = "replaced by grant " + g.ID
		return cur, true, nil
	})
	switch {
	case err != nil:
		return err
	case old.State == StateRevoked && old.ReplacedBy == g.ID:
		if err := s.recordEnd(ctx, old); err != nil {
			return err
		}
		if changed {
			s.announceEnd(ctx, old)
		}
	}
	return nil
}

// completeEnd carries out the end of a grant the active pointer still
// names: record an observed expiry, audit, clear the pointer; whoever
// clears it announces a revocation.
func (s *Service) completeEnd(ctx context.Context, g Grant) error {
	if g.State == StateApproved { // ended by time: record the expiry
		var err error
		if g, _, err = s.swapGrant(ctx, g.Tenant, g.ID, func(cur Grant) (Grant, bool, error) {
			if cur.State != StateApproved || cur.Active(s.clock()) {
				return cur, false, nil
			}
			cur.State = StateExpired
			return cur, true, nil
		}); err != nil {
			return err
		}
		if g.State == StateApproved { // still active after all
			return nil
		}
	}
	if err := s.recordEnd(ctx, g); err != nil {
		return err
	}
	cleared, err := s.clear(ctx, activeKey(g.Tenant, g.Customer), g.ID)
	if err != nil {
		return err
	}
	if cleared {
		s.changed(ctx, g.Tenant, g.ID)
		s.announceEnd(ctx, g)
	}
	return nil
}
