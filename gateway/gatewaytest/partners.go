package gatewaytest

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/sessions"
)

// PartnersEnv is a BrandEnv whose console also serves the customer's
// "My partners" pages (gateway/mypartners) on a real delegation.Service
// (the env's object store; customers from the env's registry). acme has
// accepted the delegated-operation agreement; cust-1 (acme X) signs in
// with CustomerSignIn.
type PartnersEnv struct {
	*BrandEnv
	Delegation *delegation.Service
}

// PartnerAdmin is the acme partner admin as the delegation service sees
// staff: the subject that requests grants in the tests.
var PartnerAdmin = authz.Subject{User: "pa-acme", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"}

// NewPartnersEnv starts a PartnersEnv; each extra adjusts the gateway
// options after the env's own.
func NewPartnersEnv(t testing.TB, extra ...func(e *StaffEnv, o *gateway.Options)) *PartnersEnv {
	t.Helper()
	e := &PartnersEnv{}
	e.BrandEnv = NewBrandEnvOn(t, nil, render.DefaultUpstream(), func(se *StaffEnv, o *gateway.Options) {
		dir := delegation.DirectoryFunc(func(ctx context.Context, tenant, id string) (delegation.CustomerInfo, bool, error) {
			c, err := se.Customers.ByDomainID(ctx, tenant, id)
			if err != nil || c == nil {
				return delegation.CustomerInfo{}, false, err
			}
			return delegation.CustomerInfo{Name: c.DomainName, AssociationType: c.AssociationType}, true, nil
		})
		e.Delegation = delegation.New(se.Store, dir, delegation.Options{Logger: slog.New(slog.DiscardHandler)})
		o.MyPartners = e.Delegation
		for _, fn := range extra {
			fn(se, o)
		}
	})
	if _, err := e.Delegation.AcceptAgreement(context.Background(), "acme", delegation.AgreementVersion, PartnerAdmin); err != nil {
		t.Fatal(err)
	}
	return e
}

// Request asks customer label (of Cust) for scopes over d as PartnerAdmin
// (or as by, for another tenant's staff), failing the test on an error.
func (e *PartnersEnv) Request(t testing.TB, label string, d time.Duration, reason string, scopes ...delegation.Scope) delegation.Grant {
	t.Helper()
	c := e.Cust[label]
	by := PartnerAdmin
	if c.Tenant != "acme" {
		by = authz.Subject{User: "pa-" + c.Tenant, Roles: []string{authz.RolePartnerAdmin}, Tenant: c.Tenant}
		if _, err := e.Delegation.AcceptAgreement(context.Background(), c.Tenant, delegation.AgreementVersion, by); err != nil {
			t.Fatal(err)
		}
	}
	g, err := e.Delegation.Request(context.Background(), c.Tenant, delegation.RequestInput{Customer: c.DomainID,
		Scopes: scopes, Duration: d, Reason: reason}, by)
	if err != nil {
		t.Fatalf("request for %s: %v", label, err)
	}
	return g
}

// CustomerOf is the customer label's own subject (as its console session
// would decide grants).
func (e *PartnersEnv) CustomerOf(label string) authz.Subject {
	c := e.Cust[label]
	return authz.Subject{User: "customer-" + label, Roles: []string{authz.RoleCustomer}, Tenant: c.Tenant, Customer: c.DomainID}
}

// DelegatedBrowser is a browser holding a console session of kind
// "delegated" on acme's console for grant g (as the switch-in makes), and
// that session's id. It does not follow redirects.
func (e *PartnersEnv) DelegatedBrowser(t testing.TB, g delegation.Grant) (*http.Client, string) {
	t.Helper()
	s, err := e.Sessions.Create(context.Background(), sessions.Session{Tenant: g.Tenant, Kind: "delegated",
		Issuer: "livery", Subject: "pa-acme", User: "Alice", AccountID: g.Customer, Account: g.CustomerName,
		Roles: delegation.Roles(g.Scopes), Extra: map[string]string{"grant": g.ID, "staff": "pa-acme"}})
	if err != nil {
		t.Fatal(err)
	}
	c := StepBrowser(nil)
	u, _ := url.Parse(e.ConsoleURL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "livery_session", Value: s.ID, Path: "/"}})
	return c, s.ID
}
