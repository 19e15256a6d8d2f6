package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/adminapi"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/httpprovision"
	"github.com/livery/livery/tenants/live"
	"github.com/livery/livery/tenants/notify"
)

// buildAssociation wires the customer association lifecycle
// (docs/association.md) to the partner domain: what it knows about cloud
// accounts comes from the partner customer registries (assocAccounts), its
// bindings are mirrored into them (assocRegistry: the partner API's query
// and the staff UI see invited, changed and unbound customers), an
// unbinding ends the customer's delegation grants (assocUnbind), and its
// announcements go to the partner event notifier. The same store as
// every other domain service; audit stream "association".
func buildAssociation(svc *services, del *delegation.Service, sess *sessions.Store, events notify.EventNotifier, log *slog.Logger) *association.Service {
	alog := log.With("component", "association")
	o := association.Options{
		Accounts: assocAccounts{customers: svc.customers, tenants: svc.tenants},
		Registry: assocRegistry{customers: svc.customers},
		Logger:   alog,
	}
	o.Unbound = assocUnbind{grants: del, sessions: sess, log: alog}
	if events != nil {
		o.Announcer = assocAnnouncer{n: events}
	}
	return association.New(svc.store, o)
}

// assocAccounts tells the association service about a cloud account.
// AssociatedWith is the tenant whose partner API registered the account
// (one index look-up per tenant of the table; mirrors of invited
// associations are not counted: their binding is the association's own
// record). Frozen and "is itself a partner" come from the cloud's account
// API as the inviting tenant's provisioner reaches it (kind http: GET
// <url>/<domain id>); with the builtin provisioner, or an account the API
// does not know (404), the gateway knows neither and both are false.
type assocAccounts struct {
	customers *tenants.Customers
	tenants   *live.Table
}

func (a assocAccounts) Account(ctx context.Context, tenant, customer string) (association.AccountInfo, error) {
	var info association.AccountInfo
	var api *httpprovision.Provisioner
	if t, ok := a.tenants.ByID(tenant); ok {
		api = cloudAccountAPI(t)
	}
	if api != nil {
		st, _, err := api.Status(ctx, customer)
		if err != nil {
			return info, fmt.Errorf("the cloud's account API about %s: %w", customer, err)
		}
		info.Frozen, info.IsPartner = st.Frozen, st.Partner
	}
	for _, t := range a.tenants.All() {
		c, err := a.customers.ByDomainID(ctx, t.ID, customer)
		if err != nil {
			return info, fmt.Errorf("look up account %s at %s: %w", customer, t.ID, err)
		}
		if c != nil && !c.Invited() {
			info.AssociatedWith = t.ID
			break
		}
	}
	return info, nil
}

// assocRegistry mirrors a binding into the tenant's customer registry
// (tenants.Customers.Associate, idempotent).
type assocRegistry struct{ customers *tenants.Customers }

func (r assocRegistry) Apply(ctx context.Context, b association.Binding) error {
	_, err := r.customers.Associate(ctx, b.Tenant, tenants.Association{Customer: b.Customer, Type: b.Type,
		Since: b.Since, Bound: b.State == association.Bound})
	return err
}

// unbindActor is the actor of the delegation changes an unbinding makes:
// the customer confirmed the unbinding; the association service ends the
// grants on its behalf.
func unbindActor(tenant string) authz.Subject {
	return authz.Subject{User: "livery:association-unbound", Tenant: tenant}
}

// assocUnbind ends an unbound customer's delegation grants: the active
// grant is revoked, a pending request withdrawn. Idempotent: a grant
// already ended (ErrState, a concurrent end) counts as done when the
// customer has no active or pending grant left.
type assocUnbind struct {
	grants   *delegation.Service // nil: no delegation
	sessions *sessions.Store
	log      *slog.Logger
}

// unbindReason is the revocation reason recorded on the grants an
// unbinding ends (zh/en: people read it in the grant history).
const unbindReason = "客户已解除关联 / the customer's association with the partner ended"

func (u assocUnbind) CustomerUnbound(ctx context.Context, tenant, customer string) error {
	if u.sessions != nil {
		// The customer's console sessions on the partner's console end at
		// once (its own and delegated ones): the console is no longer its.
		n, err := u.sessions.EndByAccount(ctx, tenant, customer)
		if err != nil {
			return err
		}
		if n > 0 {
			u.log.Info("association: unbound customer's console sessions ended", "tenant", tenant, "customer", customer, "sessions", n)
		}
	}
	if u.grants == nil {
		return nil
	}
	by := unbindActor(tenant)
	for attempt := 0; attempt < 3; attempt++ {
		g, active, err := u.grants.ActiveGrant(ctx, tenant, customer)
		if err != nil {
			return err
		}
		p, pending, err := u.grants.Pending(ctx, tenant, customer)
		if err != nil {
			return err
		}
		if !active && !pending {
			return nil
		}
		if active {
			if _, err := u.grants.Revoke(ctx, tenant, g.ID, by, unbindReason); err != nil && !errors.Is(err, delegation.ErrState) {
				return err
			}
			u.log.Info("association: unbound customer's delegation grant revoked", "tenant", tenant, "customer", customer, "grant", g.ID)
		}
		if pending {
			if _, err := u.grants.Withdraw(ctx, tenant, p.ID, by); err != nil && !errors.Is(err, delegation.ErrState) {
				return err
			}
			u.log.Info("association: unbound customer's delegation request withdrawn", "tenant", tenant, "customer", customer, "grant", p.ID)
		}
	}
	return fmt.Errorf("association: delegation grants of %s at %s kept changing", customer, tenant)
}

// assocAnnouncer tells partners (and, through them, customers) about
// association events over the partner event notifier; the event id is
// the invitation or change and the kind, so a receiver can drop a repeat.
type assocAnnouncer struct{ n notify.EventNotifier }

func (a assocAnnouncer) Announce(ctx context.Context, an association.Announcement) {
	subject := an.Invitation
	if subject == "" {
		subject = an.Change
	}
	if an.Kind == association.KindExpired { // a resent invitation can expire again
		subject += "-" + strconv.FormatInt(an.At.Unix(), 10)
	}
	a.n.Notify(ctx, notify.Event{ID: subject + "-" + an.Kind, Tenant: an.Tenant, Kind: an.Kind, Customer: an.Customer,
		Invitation: an.Invitation, Change: an.Change, Audience: an.Audience, Actor: an.Actor.User, At: an.At})
}

// invitationLink is an invitation's link on the tenant's console (as the
// preview's links: consoleURL); the path alone for a tenant not in the
// table.
func invitationLink(cfg *config.Config, table *live.Table) func(tenant, token string) string {
	base := consoleURL(cfg)
	return func(tenant, token string) string {
		if t, ok := table.ByID(tenant); ok && len(t.Hosts) > 0 {
			return base(t) + adminapi.InvitationPath + token
		}
		return adminapi.InvitationPath + token
	}
}

// assocPeriods keeps the manager periods of every assignment
// (tenants.Assignments.Periods → association.Service.SetManagers).
type assocPeriods struct{ s *association.Service }

func (p assocPeriods) Record(ctx context.Context, tenant, customer string, managers []string, actor authz.Subject) error {
	_, err := p.s.SetManagers(ctx, tenant, customer, managers, actor)
	return err
}

// runInvitationSweep announces expired online invitations (the expiry is
// lazy: association.Service.SweepExpired) every interval until ctx ends.
func runInvitationSweep(ctx context.Context, as *association.Service, tenantIDs func() []string, every time.Duration, log *slog.Logger) {
	everyTenant(ctx, every, tenantIDs, "association: invitation expiry sweep failed; the next sweep retries", log,
		func(ctx context.Context, id string) error { _, err := as.SweepExpired(ctx, id, time.Now()); return err })
}
