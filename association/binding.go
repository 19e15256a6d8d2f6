package association

import (
	"context"
	"fmt"
	"time"

	"github.com/livery/livery/authz"
)

// Binding states.
const (
	Bound   = "bound"
	Unbound = "unbound"
)

// Binding is the durable association of one customer (cloud account) with
// one partner, stored at association/customers/<customer>.json: one object
// per customer, so "one customer, one partner" is a create-only write (or
// a CAS from unbound). Every transition is one CAS that sets Outstanding; the
// effect (registry, unbind hook, audit) is then carried out and cleared,
// by this call or, after a crash, by the next call touching the customer.
type Binding struct {
	Customer   string    `json:"customer"`
	Tenant     string    `json:"tenant"`
	State      string    `json:"state"`
	Type       string    `json:"type"`
	Since      time.Time `json:"since"`
	Invitation string    `json:"invitation,omitempty"`
	// LastChangeAt is when the last type change or unbinding took effect
	// (kept across partners: the 3-month rule is per customer).
	LastChangeAt time.Time `json:"last_change_at,omitzero"`
	Pending      *Change   `json:"pending,omitempty"`
	Changes      []Change  `json:"changes,omitempty"` // decided changes with this partner, oldest first
	Outstanding  *effect   `json:"effect,omitempty"`  // the effect still to carry out
	Seq          int       `json:"seq"`
	ETag         string    `json:"-"`
}

// Change kinds and states.
const (
	KindType   = "type"
	KindUnbind = "unbind"

	ChangeRequested = "requested"
	ChangeConfirmed = "confirmed"
	ChangeRefused   = "refused"
)

// Change is a partner's request to change a customer's association type
// or to unbind it, awaiting (or given) the customer's decision.
type Change struct {
	ID          string         `json:"id"`
	Kind        string         `json:"kind"`
	From        string         `json:"from"`
	To          string         `json:"to,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	State       string         `json:"state"`
	RequestedBy authz.Subject  `json:"requested_by"`
	RequestedAt time.Time      `json:"requested_at"`
	DecidedBy   *authz.Subject `json:"decided_by,omitempty"`
	DecidedAt   time.Time      `json:"decided_at,omitzero"`
}

// effect is the pending to-do of the last transition.
type effect struct {
	Event   string        `json:"event"`
	ID      string        `json:"id"`
	At      time.Time     `json:"at"`
	Actor   authz.Subject `json:"actor"`
	Detail  string        `json:"detail,omitempty"`
	Unbound bool          `json:"unbound,omitempty"` // tell the unbind hook
}

// NextChangeAllowed is the first time a change may be requested.
func (b Binding) NextChangeAllowed() time.Time {
	if b.LastChangeAt.IsZero() {
		return time.Time{}
	}
	return b.LastChangeAt.AddDate(0, ChangeMonths, 0)
}

func (s *Service) binding(ctx context.Context, customer string) (Binding, bool, error) {
	b, etag, found, err := getJSON[Binding](ctx, s.store, bindingKey(customer))
	b.ETag = etag
	return b, found, err
}

// swapBinding is the CAS loop on a customer's binding: change gets the
// settled current binding (found false: none) and returns the next one,
// or apply false to leave it. The effect of a successful change is then
// carried out (see settle).
func (s *Service) swapBinding(ctx context.Context, customer string, change func(cur Binding, found bool) (Binding, bool, error)) (Binding, error) {
	for range 16 {
		cur, found, err := s.settle(ctx, customer)
		if err != nil {
			return Binding{}, err
		}
		next, apply, err := change(cur, found)
		if err != nil || !apply {
			return cur, err
		}
		next.Seq = cur.Seq + 1
		next.Customer = customer
		etag, err := s.put(ctx, bindingKey(customer), next, condition(cur.ETag))
		if isPrecondition(err) {
			continue
		}
		if err != nil {
			return Binding{}, fmt.Errorf("association: store binding: %w", err)
		}
		next.ETag = etag
		return s.carryOut(ctx, next)
	}
	return Binding{}, wrap(ErrBusy, "binding of %s", customer)
}

// settle reads the customer's binding and carries out an effect a crash
// left behind.
func (s *Service) settle(ctx context.Context, customer string) (Binding, bool, error) {
	b, found, err := s.binding(ctx, customer)
	if err != nil || !found || b.Outstanding == nil {
		return b, found, err
	}
	b, err = s.carryOut(ctx, b)
	return b, true, err
}

// carryOut runs b's effect, each step idempotent: registry, unbind hook,
// audit (deterministic id), then clears the effect with CAS. A crash
// anywhere leaves the effect, which the next settle runs again.
func (s *Service) carryOut(ctx context.Context, b Binding) (Binding, error) {
	if b.Outstanding == nil {
		return b, nil
	}
	e := *b.Outstanding
	if s.registry != nil {
		if err := s.registry.Apply(ctx, b); err != nil {
			return b, fmt.Errorf("association: registry: %w", err)
		}
	}
	if e.Unbound && s.unbound != nil {
		if err := s.unbound.CustomerUnbound(ctx, b.Tenant, b.Customer); err != nil {
			return b, fmt.Errorf("association: unbind hook: %w", err)
		}
	}
	if err := s.record(ctx, auditEvent{Event: e.Event, ID: e.ID, At: e.At, Tenant: b.Tenant, Customer: b.Customer,
		Actor: e.Actor, Detail: e.Detail}); err != nil {
		return b, err
	}
	next := b
	next.Outstanding, next.Seq = nil, b.Seq+1
	etag, err := s.put(ctx, bindingKey(b.Customer), next, condition(b.ETag))
	if isPrecondition(err) { // someone else cleared it (or moved on): read the truth
		cur, _, err := s.binding(ctx, b.Customer)
		return cur, err
	}
	if err != nil {
		return b, fmt.Errorf("association: store binding: %w", err)
	}
	next.ETag = etag
	s.announceEffect(ctx, b, e)
	return next, nil
}

// Binding returns the customer's binding (found false when the customer
// never was associated through this package), completing an interrupted
// transition first. Errors: ErrInvalid, a store, registry, hook or audit
// error of the completion.
func (s *Service) Binding(ctx context.Context, customer string) (Binding, bool, error) {
	if !ValidID(customer) {
		return Binding{}, false, wrap(ErrInvalid, "customer id %q", customer)
	}
	return s.settle(ctx, customer)
}

// boundTo returns the customer's binding if it is bound to tenant.
func (s *Service) boundTo(cur Binding, found bool, tenant string) error {
	if !found || cur.State != Bound || cur.Tenant != tenant {
		return wrap(ErrNotAssociated, "customer %s, tenant %s", cur.Customer, tenant)
	}
	return nil
}

// RequestChange asks customer to confirm a change of its association with
// tenant: kind KindType (to is the new type) or KindUnbind (to ignored).
// Only a partner admin of tenant may (the caller authorizes as well). At
// most one change takes effect per customer every ChangeMonths months:
// a request before NextChangeAllowed fails with a *TooSoonError naming
// that date. Nothing changes until the customer confirms.
//
// Errors: ErrInvalid, ErrNotAllowed, ErrNotAssociated, ErrChangePending,
// ErrSameType, *TooSoonError (ErrTooSoon), ErrBusy, a store error.
func (s *Service) RequestChange(ctx context.Context, tenant, customer, kind, to, why string, actor authz.Subject) (Change, error) {
	if err := checkAdmin(tenant, actor); err != nil {
		return Change{}, err
	}
	if !ValidID(customer) {
		return Change{}, wrap(ErrInvalid, "customer id %q", customer)
	}
	switch kind {
	case KindType:
		if to != TypeReferral && to != TypeResale {
			return Change{}, wrap(ErrInvalid, "association type %q (want 1 or 2)", to)
		}
	case KindUnbind:
		to = ""
	default:
		return Change{}, wrap(ErrInvalid, "change kind %q", kind)
	}
	if len([]rune(why)) > 500 {
		return Change{}, wrap(ErrInvalid, "reason longer than 500 characters")
	}
	now := s.clock()
	var c Change
	_, err := s.swapBinding(ctx, customer, func(cur Binding, found bool) (Binding, bool, error) {
		if err := s.boundTo(cur, found, tenant); err != nil {
			return cur, false, err
		}
		switch {
		case cur.Pending != nil:
			return cur, false, wrap(ErrChangePending, "change %s", cur.Pending.ID)
		case kind == KindType && to == cur.Type:
			return cur, false, ErrSameType
		case now.Before(cur.NextChangeAllowed()):
			return cur, false, &TooSoonError{Next: cur.NextChangeAllowed()}
		}
		c = Change{ID: newID(now), Kind: kind, From: cur.Type, To: to, Reason: why, State: ChangeRequested,
			RequestedBy: actor, RequestedAt: now}
		cur.Pending = &c
		cur.Outstanding = &effect{Event: EventChangeRequested, ID: c.ID, At: now, Actor: actor, Detail: changeDetail(c)}
		return cur, true, nil
	})
	return c, err
}

func changeDetail(c Change) string {
	if c.Kind == KindUnbind {
		return "unbind; from type " + c.From
	}
	return "type " + c.From + " -> " + c.To
}

// DecideChange is the customer's answer to the pending change id: confirm
// true applies it at once (a type change sets Type; an unbinding sets
// State Unbound and tells the UnbindHook), false refuses it. Only the
// customer account itself may answer (not a delegated session, not
// another customer). Deciding an already decided change the same way
// returns it again (idempotent).
//
// Errors: ErrInvalid, ErrNotAllowed, ErrNotAssociated, ErrState (no such
// pending change, or decided otherwise), ErrBusy, a store, registry, hook
// or audit error (the decision stands; the next call completes it).
func (s *Service) DecideChange(ctx context.Context, customer, id string, confirm bool, account authz.Subject) (Binding, error) {
	if err := checkAccount(account); err != nil {
		return Binding{}, err
	}
	if account.Customer != customer {
		return Binding{}, wrap(ErrNotAllowed, "account %s cannot answer for customer %s / 不能代其他客户确认", account.Customer, customer)
	}
	want := ChangeRefused
	if confirm {
		want = ChangeConfirmed
	}
	now := s.clock()
	return s.swapBinding(ctx, customer, func(cur Binding, found bool) (Binding, bool, error) {
		if !found {
			return cur, false, wrap(ErrNotAssociated, "customer %s", customer)
		}
		if cur.Pending == nil || cur.Pending.ID != id {
			for _, c := range cur.Changes {
				if c.ID == id && c.State == want {
					return cur, false, nil
				}
			}
			return cur, false, wrap(ErrState, "no pending change %s / 没有待确认的变更", id)
		}
		c := *cur.Pending
		c.State, c.DecidedBy, c.DecidedAt = want, &account, now
		cur.Pending, cur.Changes = nil, append(cur.Changes, c)
		e := &effect{Event: EventChangeRefused, ID: c.ID, At: now, Actor: account, Detail: changeDetail(c)}
		if confirm {
			e.Event = EventChangeConfirmed
			cur.LastChangeAt = now
			if c.Kind == KindUnbind {
				cur.State, e.Unbound = Unbound, true
			} else {
				cur.Type = c.To
			}
		}
		cur.Outstanding = e
		return cur, true, nil
	})
}

// Settled reports whether the last transition's effect (registry, hook,
// audit) has been carried out.
func (b Binding) Settled() bool { return b.Outstanding == nil }
