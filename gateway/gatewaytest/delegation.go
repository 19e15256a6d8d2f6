package gatewaytest

import (
	"context"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/switchrole"
	"github.com/livery/livery/tenants"
)

// CustomerDirectory is delegation's view of the customer registry: a
// customer's account name and association type.
func CustomerDirectory(c *tenants.Customers) delegation.Directory {
	return delegation.DirectoryFunc(func(ctx context.Context, tenant, domainID string) (delegation.CustomerInfo, bool, error) {
		cust, err := c.ByDomainID(ctx, tenant, domainID)
		if err != nil || cust == nil {
			return delegation.CustomerInfo{}, false, err
		}
		return delegation.CustomerInfo{Name: cust.DomainName, AssociationType: cust.AssociationType}, true, nil
	})
}

// startDelegations is the env's delegated operations on its store and
// customer registry (grant events in the store's "delegation" audit
// stream).
func (e *StaffEnv) startDelegations(t testing.TB) {
	t.Helper()
	e.Delegations = delegation.New(e.Store, CustomerDirectory(e.Customers), delegation.Options{Logger: slog.New(slog.DiscardHandler)})
}

// DelegationUIEnv is a UIEnv with the whole of delegated operations wired
// as internal/app wires it: one delegation.Service (its Notifier the
// switch role's Redis publisher) behind the admin API, the staff UI, the
// customer's "My partners" pages and the switch role, and identity
// assertions to the upstream (with the act claim of a delegated session).
// The tenant has not accepted the agreement yet.
type DelegationUIEnv struct {
	*UIEnv
	Signer *assertion.Signer
}

// NewDelegationUIEnv starts a DelegationUIEnv in front of upstream.
func NewDelegationUIEnv(t testing.TB, upstream *url.URL, up render.Upstream) *DelegationUIEnv {
	t.Helper()
	d := &DelegationUIEnv{}
	signer, err := assertion.New(nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	d.Signer = signer
	d.UIEnv = &UIEnv{NewBrandEnvOn(t, upstream, up, func(e *StaffEnv, o *gateway.Options) {
		e.Delegations = delegation.New(e.Store, CustomerDirectory(e.Customers), delegation.Options{
			Logger: slog.New(slog.DiscardHandler), Notifier: switchrole.Publisher{Redis: e.RDB}})
		o.Admin.Delegations = e.Delegations
		o.MyPartners = e.Delegations
		o.Assertions = signer
		reg := o.Tenants.(*tenants.Registry)
		if ch, ok := o.Branding.Chrome.(*branded.Chrome); ok { // partner names as internal/app gives them
			ch.Names = func(tenant, locale string) string {
				if t, ok := reg.ByID(tenant); ok {
					return map[bool]string{true: t.Name.ZH, false: t.Name.EN}[locale == render.LocaleZH]
				}
				return ""
			}
		}
		consoleURL := e.ConsoleURL
		o.Delegation = &switchrole.Options{Redis: e.RDB, Sessions: e.Sessions, Grants: e.Delegations, Customers: e.Customers,
			Authorizer: o.Identity.Authorizer, Tenants: reg, ConsoleURL: func(*tenants.Tenant) string { return consoleURL },
			StaffURL: e.APIURL, SessionTTL: time.Hour, Logger: slog.New(slog.DiscardHandler)}
	})}
	return d
}
