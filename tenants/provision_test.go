package tenants

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/livery/livery/cmd/democonsole/console"
)

// TestHTTPProvisionerAgainstDemoConsole exercises the http provisioner
// against the demo console's account API.
func TestHTTPProvisionerAgainstDemoConsole(t *testing.T) {
	srv := httptest.NewServer(console.New(console.Options{AccountToken: "tok"}))
	defer srv.Close()
	p := &HTTPProvisioner{URL: srv.URL + "/_cloud/accounts", Token: "tok"}
	ctx := context.Background()
	a1, err := p.CreateAccount(ctx, ProvisionRequest{IdempotencyKey: "k1", DomainName: "acme_corp"})
	if err != nil || len(a1.DomainID) != 32 || a1.DomainName != "acme_corp" {
		t.Fatalf("create: %+v %v", a1, err)
	}
	again, err := p.CreateAccount(ctx, ProvisionRequest{IdempotencyKey: "k1", DomainName: "acme_corp"})
	if err != nil || again != a1 {
		t.Fatalf("retry with the same key: %+v %v", again, err)
	}
	if _, err := p.CreateAccount(ctx, ProvisionRequest{IdempotencyKey: "k2", DomainName: "ACME_corp"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("name clash: %v", err)
	}
	bad := &HTTPProvisioner{URL: srv.URL + "/_cloud/accounts", Token: "wrong"}
	if _, err := bad.CreateAccount(ctx, ProvisionRequest{IdempotencyKey: "k3", DomainName: "other_co"}); !errors.Is(err, ErrRejected) {
		t.Fatalf("bad token: %v", err)
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	if _, err := (&HTTPProvisioner{URL: down.URL}).CreateAccount(ctx, ProvisionRequest{IdempotencyKey: "k4", DomainName: "x_y_z"}); err == nil ||
		errors.Is(err, ErrRejected) || errors.Is(err, ErrNameTaken) {
		t.Fatalf("5xx must be transient: %v", err)
	}
}
