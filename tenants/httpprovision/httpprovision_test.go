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
