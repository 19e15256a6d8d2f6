package delegation

import (
	"context"
	"fmt"

	"github.com/livery/livery/authz"
)

// Approve approves request id: the grant is active from now until now +
// its duration. customer must be the customer itself (role customer,
// tenant and customer id equal to the grant's; not a delegated session).
// If the request replaces the active grant, that grant is revoked as of
// this approval. Errors: ErrNotFound, ErrNotYourGrant, ErrState (not a
// pending request: answered, withdrawn or expired; of concurrent
// decisions exactly one wins), ErrActiveExists (another grant became
// active that the request does not replace), ErrInvalidArgument, a store
// or audit error (then the approval has happened).
func (s *Service) Approve(ctx context.Context, tenant, id string, customer authz.Subject) (Grant, error) {
	return s.decide(ctx, tenant, id, customer, StateApproved, "", func(g Grant) error {
		return checkCustomer(tenant, g.Customer, customer)
	})
}

// Reject rejects request id; note (optional, at most MaxReasonRunes) is
// shown to the partner. Errors: as Approve's (without ErrActiveExists),
// ErrReasonRequired for an over-long note.
func (s *Service) Reject(ctx context.Context, tenant, id string, customer authz.Subject, note string) (Grant, error) {
	note, err := reason(note, false)
	if err != nil {
		return Grant{}, err
	}
	return s.decide(ctx, tenant, id, customer, StateRejected, note, func(g Grant) error {
		return checkCustomer(tenant, g.Customer, customer)
	})
}

// decide records a decision on request id and completes it. authorize
// (nil: staff, checked by the caller) checks the actor against the grant.
func (s *Service) decide(ctx context.Context, tenant, id string, actor authz.Subject, st State, note string, authorize func(Grant) error) (Grant, error) {
	if err := checkIDs(tenant, ""); err != nil {
		return Grant{}, err
	}
	g, err := s.Get(ctx, tenant, id)
	if err != nil {
		return Grant{}, err
	}
	if authorize != nil {
		if err := authorize(g); err != nil {
			return Grant{}, err
		}
	}
	ptrs, err := s.settle(ctx, tenant, g.Customer)
	if err != nil {
		return Grant{}, err
	}
	if ptrs.pending == nil || ptrs.pending.ID != id {
		if g, _, err = s.grant(ctx, tenant, id); err != nil {
			return Grant{}, err
		}
		return Grant{}, fmt.Errorf("%w: grant %s is %s", ErrState, id, g.StateAt(s.clock()))
	}
	if st == StateApproved && ptrs.active != nil && ptrs.active.ID != g.Replaces {
		return Grant{}, fmt.Errorf("%w: %s", ErrActiveExists, ptrs.active.ID)
	}
	g, _, err = s.swapGrant(ctx, tenant, id, func(cur Grant) (Grant, bool, error) {
		now := s.clock()
		if cur.StateAt(now) != StateRequested {
			return cur, false, fmt.Errorf("%w: grant %s is %s", ErrState, id, cur.StateAt(now))
		}
		by := actor
		cur.State, cur.DecidedBy, cur.DecidedAt, cur.DecisionNote = st, &by, now, note
		if st == StateApproved {
			cur.ApprovedAt, cur.EndsAt = now, now.Add(cur.Duration)
		}
		return cur, true, nil
	})
	if err != nil {
		return Grant{}, err
	}
	return g, s.completeDecision(ctx, g)
}

// Revoke ends active grant id now. by is the customer itself (as for
// Approve), staff of the grant's tenant, or an operator; reason is
// optional (at most MaxReasonRunes). The Notifier is told, so that
// delegated sessions end on every instance. Errors: ErrNotFound,
// ErrNotYourGrant, ErrState (not active: pending, expired, already
// revoked, ...), ErrReasonRequired, ErrInvalidArgument, a store or audit
// error (then the revocation has happened).
func (s *Service) Revoke(ctx context.Context, tenant, id string, by authz.Subject, why string) (Grant, error) {
	if err := checkIDs(tenant, ""); err != nil {
		return Grant{}, err
	}
	why, err := reason(why, false)
	if err != nil {
		return Grant{}, err
	}
	g, err := s.Get(ctx, tenant, id)
	if err != nil {
		return Grant{}, err
	}
	if hasRole(by, authz.RoleCustomer) {
		err = checkCustomer(tenant, g.Customer, by)
	} else {
		err = checkStaff(tenant, by, true)
	}
	if err != nil {
		return Grant{}, err
	}
	if _, err := s.settle(ctx, tenant, g.Customer); err != nil {
		return Grant{}, err
	}
	g, _, err = s.swapGrant(ctx, tenant, id, func(cur Grant) (Grant, bool, error) {
		now := s.clock()
		if st := cur.StateAt(now); st != StateApproved {
			return cur, false, fmt.Errorf("%w: grant %s is %s", ErrState, id, st)
		}
		b := by
		cur.State, cur.RevokedBy, cur.RevokedAt, cur.RevokeReason = StateRevoked, &b, now, why
		return cur, true, nil
	})
	if err != nil {
		return Grant{}, err
	}
	return g, s.completeEnd(ctx, g)
}
