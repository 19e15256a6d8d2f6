package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// Customers associated by invitation (package association, docs/association.md).
// The system of record of such an association is the association binding;
// Associate mirrors it into the customer records and the query index, so
// the partner API's query (association_type, associated_on) and the staff
// UI see an invited customer like a registered one, and an unbound one no
// longer.
//
// A mirror is stored at CustomerKey(tenant, XAccountInvited, account id).
// A registration through the partner API always has an xaccount type, so a
// mirror never shares a key with a registration. The gateway does not know
// an invited account's name (the account was not created here), so its
// DomainName is the account id; no name or phone is claimed for it.

// XAccountInvited is the xaccount type of a customer associated by
// invitation (it has no partner-platform account).
const XAccountInvited = ""

// StateUnbound is a mirror whose association ended: it is kept (for the
// record) but not indexed, so no query finds it.
const StateUnbound = "unbound"

// Invited reports whether c was associated by invitation (a mirror).
func (c *Customer) Invited() bool { return c.XAccountType == XAccountInvited && c.XAccountID != "" }

// Association is the state of an association made by invitation, as the
// association binding has it now.
type Association struct {
	Customer string    // the cloud account id (domain id)
	Type     string    // AssociationReferral or AssociationResale
	Since    time.Time // associated on
	Bound    bool      // false: unbound
}

// Associate makes the tenant's mirror of a association a, with
// compare-and-swap, and updates the index: a bound association is an
// active customer with a's type and associated_on (managers and label
// kept while it stays bound, cleared when it binds again after an
// unbinding); an unbound one is StateUnbound and leaves the index. It is
// idempotent (called again after a crash) and returns the mirror (nil when
// a is unbound and there never was one). An index write that fails is
// queued for repair, as for a registration.
//
// Errors: a *FieldError (ErrInvalid) for a malformed account id or type;
// ErrUnavailable (wrapped) when the store fails.
func (s *Customers) Associate(ctx context.Context, tenant string, a Association) (*Customer, error) {
	if err := checkText("customer", a.Customer, 64, true); err != nil {
		return nil, err
	}
	if a.Bound && a.Type != AssociationReferral && a.Type != AssociationResale {
		return nil, invalid("association_type", `must be "1" or "2"`)
	}
	key := CustomerKey(tenant, XAccountInvited, a.Customer)
	for attempt := 0; attempt < 5; attempt++ {
		cur, obj, err := objstore.GetJSON[Customer](ctx, s.o.Store, key)
		found := err == nil
		switch {
		case errors.Is(err, objstore.ErrNotFound):
			if !a.Bound {
				return nil, nil // never mirrored, so never indexed
			}
		case err != nil:
			return nil, unavailable("read customer", err)
		}
		next := cur
		if a.Bound {
			if next.State != StateActive {
				next = Customer{Tenant: tenant, XAccountType: XAccountInvited, XAccountID: a.Customer, CreatedAt: s.o.Now().UTC()}
			}
			next.State, next.DomainID, next.DomainName = StateActive, a.Customer, a.Customer
			next.AssociationType, next.AssociatedOn = a.Type, a.Since.UTC().Truncate(time.Second)
		} else {
			next.State = StateUnbound
		}
		if found && sameMirror(&cur, &next) {
			s.reflect(ctx, &next, false)
			return &next, nil
		}
		// The durable to-do of the index write, before the record changes.
		if err := s.markForIndex(ctx, &next); err != nil {
			return nil, unavailable("mark for index", err)
		}
		o := objstore.PutOptions{IfNoneMatch: true}
		if found {
			o = objstore.PutOptions{IfMatch: obj.ETag}
		}
		if _, err := objstore.PutJSON(ctx, s.o.Store, key, next, o); err != nil {
			if errors.Is(err, objstore.ErrPreconditionFailed) {
				continue
			}
			return nil, unavailable("write customer", err)
		}
		s.reflect(ctx, &next, true)
		return &next, nil
	}
	return nil, unavailable("associate", fmt.Errorf("too much contention"))
}

func sameMirror(a, b *Customer) bool {
	return a.State == b.State && a.AssociationType == b.AssociationType && a.AssociatedOn.Equal(b.AssociatedOn) &&
		a.DomainID == b.DomainID && a.DomainName == b.DomainName
}

// reflect brings the index in line with c: active customers are put,
// others removed. Failures are queued for repair (see index).
func (s *Customers) reflect(ctx context.Context, c *Customer, marked bool) {
	if c.State == StateActive {
		s.index(ctx, c, marked)
		return
	}
	ictx, cancel := context.WithTimeout(ctx, indexCallTimeout)
	err := s.o.Index.Remove(ictx, c.Tenant, c.DomainName)
	cancel()
	if err == nil {
		if marked {
			s.unmark(ctx, CustomerKey(c.Tenant, c.XAccountType, c.XAccountID))
		}
		return
	}
	s.o.Logger.Warn("customer index removal failed; queued for repair", "tenant", c.Tenant, "err", err)
	if !marked {
		if merr := s.markForIndex(ctx, c); merr != nil {
			s.o.Logger.Error("customer index repair marker not written: run livery reindex", "tenant", c.Tenant, "err", merr)
		}
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
