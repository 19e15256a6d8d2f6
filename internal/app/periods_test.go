package app

import (
	"context"
	"testing"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/tenants"
)

// Assigning and removing a manager records a period (from, to) that the
// customer detail's history shows: the assignment service tells the
// association service.
func TestManagerPeriodsKept(t *testing.T) {
	ctx := context.Background()
	a := startApp(t, upstreamSaying(t, "acme").URL, nil)
	svc := a.app.svc
	cust, err := svc.customers.Create(ctx, "acme", tenants.Registration{XAccountID: "p-1", XAccountType: "acme",
		DomainName: "periods_customer", AssociationType: tenants.AssociationResale}, tenants.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	manager := authz.Subject{User: "mia", Roles: []string{authz.RoleCustomerManager}, Tenant: "acme"}
	if err := svc.staff.Record(ctx, manager, "Mia"); err != nil {
		t.Fatal(err)
	}
	admin := tenants.Actor{Subject: authz.Subject{User: "pat", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"}}
	if _, err := svc.managers.Assign(ctx, admin, "acme", cust.DomainID, []string{"mia"}); err != nil {
		t.Fatal(err)
	}
	h, err := svc.assoc.History(ctx, "acme", cust.DomainID)
	if err != nil || len(h) != 1 || h[0].Manager != "mia" || !h[0].To.IsZero() {
		t.Fatalf("history after assigning = %+v, %v; want one open period of mia", h, err)
	}
	if _, err := svc.managers.Assign(ctx, admin, "acme", cust.DomainID, nil); err != nil {
		t.Fatal(err)
	}
	h, err = svc.assoc.History(ctx, "acme", cust.DomainID)
	if err != nil || len(h) != 1 || h[0].To.IsZero() || h[0].ToBy == nil || h[0].ToBy.User != "pat" {
		t.Fatalf("history after removing = %+v, %v; want mia's period closed by pat", h, err)
	}
}
