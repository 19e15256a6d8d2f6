package httpprovision

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/tenants"
)

// TestProvisionerAgainstDemoConsole exercises the http provisioner
// against the demo console's account API.
func TestProvisionerAgainstDemoConsole(t *testing.T) {
	srv := httptest.NewServer(console.New(console.Options{AccountToken: "tok"}))
	defer srv.Close()
	p := &Provisioner{URL: srv.URL + "/_cloud/accounts", Token: "tok"}
	ctx := context.Background()
	a1, err := p.CreateAccount(ctx, tenants.ProvisionRequest{IdempotencyKey: "k1", DomainName: "acme_corp"})
	if err != nil || len(a1.DomainID) != 32 || a1.DomainName != "acme_corp" {
		t.Fatalf("create: %+v %v", a1, err)
	}
	again, err := p.CreateAccount(ctx, tenants.ProvisionRequest{IdempotencyKey: "k1", DomainName: "acme_corp"})
	if err != nil || again != a1 {
		t.Fatalf("retry with the same key: %+v %v", again, err)
	}
	if _, err := p.CreateAccount(ctx, tenants.ProvisionRequest{IdempotencyKey: "k2", DomainName: "ACME_corp"}); !errors.Is(err, tenants.ErrNameTaken) {
		t.Fatalf("name clash: %v", err)
	}
	bad := &Provisioner{URL: srv.URL + "/_cloud/accounts", Token: "wrong"}
	if _, err := bad.CreateAccount(ctx, tenants.ProvisionRequest{IdempotencyKey: "k3", DomainName: "other_co"}); !errors.Is(err, tenants.ErrRejected) {
		t.Fatalf("bad token: %v", err)
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	if _, err := (&Provisioner{URL: down.URL}).CreateAccount(ctx, tenants.ProvisionRequest{IdempotencyKey: "k4", DomainName: "x_y_z"}); err == nil ||
		errors.Is(err, tenants.ErrRejected) || errors.Is(err, tenants.ErrNameTaken) {
		t.Fatalf("5xx must be transient: %v", err)
	}
}

// TestAccountStatus: the account API's answer about an account: an
// existing frozen one, one it created, an unknown one (404: not found, no
// error), and refusals of a wrong token or a broken API as errors.
func TestAccountStatus(t *testing.T) {
	srv := httptest.NewServer(console.New(console.Options{AccountToken: "tok", Existing: []console.Account{
		{DomainID: "c-frozen", DomainName: "frozen_co", Frozen: true},
		{DomainID: "c-partner", DomainName: "partner_co", Partner: true},
	}}))
	defer srv.Close()
	p := &Provisioner{URL: srv.URL + "/_cloud/accounts", Token: "tok"}
	ctx := context.Background()
	created, err := p.CreateAccount(ctx, tenants.ProvisionRequest{IdempotencyKey: "k1", DomainName: "fresh_co"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id    string
		want  tenants.AccountStatus
		found bool
	}{
		{"c-frozen", tenants.AccountStatus{Frozen: true}, true},
		{"c-partner", tenants.AccountStatus{Partner: true}, true},
		{created.DomainID, tenants.AccountStatus{}, true},
		{"c-unknown", tenants.AccountStatus{}, false},
		{"../x?y", tenants.AccountStatus{}, false}, // escaped: one path segment
	} {
		st, found, err := p.Status(ctx, c.id)
		if err != nil || found != c.found || st != c.want {
			t.Errorf("Status(%q) = %+v, %v, %v; want %+v, %v", c.id, st, found, err, c.want, c.found)
		}
	}
	if _, _, err := (&Provisioner{URL: p.URL, Token: "wrong"}).Status(ctx, "c-frozen"); err == nil {
		t.Error("a wrong token must be an error, not an answer")
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	if _, _, err := (&Provisioner{URL: down.URL}).Status(ctx, "c-frozen"); err == nil {
		t.Error("503 must be an error")
	}
}
