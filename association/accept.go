package association

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/livery/livery/authz"
)

// Accept associates account with the partner of the invitation token
// names, with the invitation's association type. The account must have
// signed the current notice (Sign) for this partner. Steps, each durable
// and idempotent: the invitation is claimed (CAS pending → accepting, so a
// concurrent revoke or another account loses); the customer's binding is
// written (create-only, or CAS from unbound: one customer, one partner);
// its effect runs (registry, audit); the invitation becomes accepted. A
// crash at any step leaves the invitation accepting, and the next Accept,
// Get or List rolls it forward. Accepting again returns the same result.
//
// A refusal for a reason of the account (ErrFrozen, ErrIsPartner,
// ErrAlreadyAssociated) is stored as the invitation's Failure, which the
// partner's list shows; the invitation stays pending.
//
// Errors: the errors of Redeem; ErrNoticeNotSigned; ErrFrozen;
// ErrIsPartner; ErrAlreadyAssociated; ErrBusy; a store, Accounts,
// registry or audit error (a retry resumes).
func (s *Service) Accept(ctx context.Context, token string, account authz.Subject) (Invitation, Binding, error) {
	inv, err := s.Redeem(ctx, token, account)
	if err != nil {
		return Invitation{}, Binding{}, err
	}
	if inv.State == StatePending {
		if inv, err = s.claimInvitation(ctx, inv, account); err != nil {
			return Invitation{}, Binding{}, err
		}
	}
	return s.completeAccept(ctx, inv)
}

// claimInvitation checks the account and moves inv to accepting.
func (s *Service) claimInvitation(ctx context.Context, inv Invitation, account authz.Subject) (Invitation, error) {
	c := account.Customer
	ok, err := s.signed(ctx, c, inv.Tenant)
	if err != nil {
		return Invitation{}, err
	}
	if !ok {
		return Invitation{}, wrap(ErrNoticeNotSigned, "version %s", NoticeVersion)
	}
	if r, err := s.refusal(ctx, c, inv.Tenant); err != nil || r != nil {
		if r != nil {
			s.fail(ctx, inv, c, r)
			return Invitation{}, r
		}
		return Invitation{}, err
	}
	now := s.clock()
	return s.swap(ctx, inv.Tenant, inv.ID, func(cur Invitation) (Invitation, bool, error) {
		if cur.TokenHash != inv.TokenHash { // resent meanwhile: this token is dead
			return cur, false, ErrLinkNotFound
		}
		if err := usable(cur, account, now); err != nil {
			return cur, false, err
		}
		if cur.State != StatePending {
			return cur, false, nil // ours already (usable checked the account)
		}
		cur.State, cur.Customer, cur.DecidedAt, cur.Failure, cur.AcceptedBy = StateAccepting, c, now, nil, &account
		return cur, true, nil
	})
}

// refusal is the account's reason not to be associated with tenant, or nil.
func (s *Service) refusal(ctx context.Context, customer, tenant string) (*Reason, error) {
	info, err := s.accounts.Account(ctx, tenant, customer)
	if err != nil {
		return nil, fmt.Errorf("association: account %s: %w", customer, err)
	}
	switch {
	case info.Frozen:
		return ErrFrozen, nil
	case info.IsPartner:
		return ErrIsPartner, nil
	case info.AssociatedWith != "":
		return ErrAlreadyAssociated, nil
	}
	b, found, err := s.settle(ctx, customer)
	if err != nil {
		return nil, err
	}
	if found && b.State == Bound {
		return ErrAlreadyAssociated, nil
	}
	return nil, nil
}

// fail stores r as inv's Failure (best effort: the caller gets r anyway).
func (s *Service) fail(ctx context.Context, inv Invitation, customer string, r *Reason) {
	now := s.clock()
	if _, err := s.swap(ctx, inv.Tenant, inv.ID, func(cur Invitation) (Invitation, bool, error) {
		if cur.State != StatePending {
			return cur, false, nil
		}
		cur.Failure = &Failure{Code: r.Code, ZH: r.ZH, EN: r.EN, Customer: customer, At: now}
		return cur, true, nil
	}); err != nil {
		s.log.Warn("association: could not record a failed acceptance", "tenant", inv.Tenant, "invitation", inv.ID, "err", err)
	}
}

// completeAccept rolls an accepting (or accepted) invitation forward.
func (s *Service) completeAccept(ctx context.Context, inv Invitation) (Invitation, Binding, error) {
	c := inv.Customer
	b, err := s.swapBinding(ctx, c, func(cur Binding, found bool) (Binding, bool, error) {
		if found && cur.Invitation == inv.ID && cur.Tenant == inv.Tenant {
			if cur.State != Bound {
				return cur, false, wrap(ErrCodeUsed, "the association it made has ended / 其建立的关联已解除")
			}
			return cur, false, nil // written already
		}
		if found && cur.State == Bound {
			return cur, false, ErrAlreadyAssociated
		}
		if inv.State == StateAccepted {
			return cur, false, fmt.Errorf("association: accepted invitation %s has no binding", inv.ID)
		}
		by := authz.Subject{User: c, Roles: []string{authz.RoleCustomer}, Customer: c}
		if inv.AcceptedBy != nil {
			by = *inv.AcceptedBy
		}
		next := Binding{Tenant: inv.Tenant, State: Bound, Type: inv.AssociationType, Since: inv.DecidedAt,
			Invitation: inv.ID, LastChangeAt: cur.LastChangeAt,
			Outstanding: &effect{Event: EventAssociated, ID: inv.ID, At: inv.DecidedAt, Actor: by, Detail: "invitation " + inv.ID + "; type " + inv.AssociationType}}
		return next, true, nil
	})
	if errors.Is(err, ErrAlreadyAssociated) {
		// Bound elsewhere between the check and the claim: release the
		// invitation with the reason.
		inv2, serr := s.swap(ctx, inv.Tenant, inv.ID, func(cur Invitation) (Invitation, bool, error) {
			if cur.State != StateAccepting || cur.Customer != c {
				return cur, false, nil
			}
			cur.State, cur.Customer, cur.DecidedAt, cur.AcceptedBy = StatePending, "", time.Time{}, nil
			cur.Failure = &Failure{Code: ErrAlreadyAssociated.Code, ZH: ErrAlreadyAssociated.ZH, EN: ErrAlreadyAssociated.EN,
				Customer: c, At: s.clock()}
			return cur, true, nil
		})
		if serr != nil {
			return inv2, Binding{}, serr
		}
		return inv2, Binding{}, err
	}
	if err != nil {
		return inv, b, err
	}
	if b.Outstanding != nil { // a concurrent transition's effect: carry it out too
		if b, _, err = s.settle(ctx, c); err != nil {
			return inv, b, err
		}
	}
	if b.Outstanding != nil { // still not done: stay accepting, a retry resumes
		return inv, b, fmt.Errorf("association: binding of %s not completed", c)
	}
	inv, err = s.swap(ctx, inv.Tenant, inv.ID, func(cur Invitation) (Invitation, bool, error) {
		if cur.State != StateAccepting {
			return cur, false, nil
		}
		cur.State = StateAccepted
		return cur, true, nil
	})
	return inv, b, err
}
