package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/switchrole"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/tenants/notify"
)

// buildDelegation wires delegated operations: the domain service on the
// object store (customers looked up in the partner's customer store,
// grant events in the audit stream "delegation", grant changes published
// over Redis to every instance's switch, announcements to the partner
// event notifier) and the gateway's switch role.
func buildDelegation(cfg *config.Config, svc *services, idp *identityParts, events notify.EventNotifier, log *slog.Logger) (*delegation.Service, *switchrole.Options) {
	dir := delegation.DirectoryFunc(func(ctx context.Context, tenant, domainID string) (delegation.CustomerInfo, bool, error) {
		c, err := svc.customers.ByDomainID(ctx, tenant, domainID)
		if err != nil || c == nil {
			return delegation.CustomerInfo{}, false, err
		}
		return delegation.CustomerInfo{Name: c.DomainName, AssociationType: c.AssociationType}, true, nil
	})
	dlog := log.With("component", "delegation")
	o := delegation.Options{RequestTTL: cfg.Delegation.RequestTTL, Logger: dlog,
		Notifier: switchrole.Publisher{Redis: svc.rdb, Logger: dlog}}
	if events != nil {
		o.Announcer = delegationAnnouncer{n: events}
	}
	del := delegation.New(svc.store, dir, o)
	sw := &switchrole.Options{Redis: svc.rdb, Sessions: idp.sessions, Grants: del, Customers: svc.customers,
		Authorizer: idp.authz, Tenants: svc.tenants, ConsoleURL: consoleURL(cfg), StaffURL: cfg.Staff.PublicURL,
		SessionTTL: cfg.Delegation.SessionTTL, CookieSecure: cfg.Sessions.CookieSecure, Logger: log.With("component", "switchrole")}
	return del, sw
}

// delegationAnnouncer tells partners (and, through them, customers)
// about delegation events over the partner event notifier.
type delegationAnnouncer struct{ n notify.EventNotifier }

// Announce implements delegation.Announcer; the event id is the grant and
// kind, so a receiver can drop a repeat.
func (a delegationAnnouncer) Announce(ctx context.Context, an delegation.Announcement) {
	id := an.Grant.ID + "-" + an.Kind
	if an.Grant.ID == "" {
		id = ids.Hex(16)
	}
	a.n.Notify(ctx, notify.Event{ID: id, Tenant: an.Tenant, Kind: an.Kind, Customer: an.Customer, Grant: an.Grant.ID,
		Audience: an.Audience, Reason: an.Grant.Reason, Actor: an.Actor, At: an.At})
}

// runDelegationReminders sweeps every tenant's grants for "ending soon"
// reminders every interval until ctx ends (idempotent per grant and
// threshold, so every instance may run it).
func runDelegationReminders(ctx context.Context, del *delegation.Service, tenantIDs func() []string, every time.Duration, log *slog.Logger) {
	everyTenant(ctx, every, tenantIDs, "delegation: reminder sweep failed; the next sweep retries", log,
		func(ctx context.Context, id string) error { _, err := del.Reminders(ctx, id, time.Now()); return err })
}

// everyTenant runs sweep for each tenant of the table every interval
// until ctx ends, each call bounded by a minute; a failure is logged as
// failed (with the tenant) and retried at the next interval.
func everyTenant(ctx context.Context, every time.Duration, tenantIDs func() []string, failed string, log *slog.Logger,
	sweep func(ctx context.Context, tenant string) error) {
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for _, id := range tenantIDs() {
				sctx, cancel := context.WithTimeout(ctx, time.Minute)
				if err := sweep(sctx, id); err != nil {
					log.Warn(failed, "tenant", id, "err", err)
				}
				cancel()
			}
		}
	}()
}
