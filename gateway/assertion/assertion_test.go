package assertion

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/valyala/fasthttp"

	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/sessions"
)

// verify checks tok against the signer's JWKS and returns its claims.
func verify(t *testing.T, a *Signer, tok string) (Claims, map[string]any) {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	keys := a.JWKS()
	var c Claims
	var raw map[string]any
	if err := parsed.Claims(keys.Keys[0].Key, &c, &raw); err != nil {
		t.Fatalf("assertion does not verify: %v", err)
	}
	return c, raw
}

// TestDelegatedAssertion: a delegated request's verified assertion carries
// the RFC 8693 act claim (staff subject, grant) next to the customer's
// identity, and the actor headers are set; the customer's own session has
// neither; a delegated session without its checked delegation is refused.
func TestDelegatedAssertion(t *testing.T) {
	a, err := New(nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	out := func(s *sessions.Session, d *exchange.Delegation) *exchange.Outbound {
		return &exchange.Outbound{Request: &fasthttp.Request{}, Session: s, Delegation: d, Origin: "https://up.example"}
	}
	del := &sessions.Session{ID: "sess-delegated", Tenant: "acme", Kind: sessions.KindDelegated, AccountID: "cust-1", Account: "Resale Co",
		User: "Resale Co", Roles: []string{"delegated:resources"}}
	o := out(del, &exchange.Delegation{Grant: "20260101T000000000000000Z-0000abcd", Actor: "pa acme"})
	if err := a.IdentityHeaders(o); err != nil {
		t.Fatal(err)
	}
	c, raw := verify(t, a, string(o.Header.Peek(HeaderAssertion)))
	if c.Subject != "cust-1" || c.Tenant != "acme" || c.Act == nil || c.Act.Subject != "pa acme" || c.Act.Grant != "20260101T000000000000000Z-0000abcd" {
		b, _ := json.Marshal(raw)
		t.Fatalf("claims %s", b)
	}
	if got := string(o.Header.Peek(HeaderActor)); got != "pa%20acme" {
		t.Errorf("%s = %q", HeaderActor, got)
	}
	if got := string(o.Header.Peek(HeaderGrant)); got != "20260101T000000000000000Z-0000abcd" {
		t.Errorf("%s = %q", HeaderGrant, got)
	}

	own := out(&sessions.Session{ID: "sess-own", Tenant: "acme", Kind: "customer", AccountID: "cust-1"}, nil)
	if err := a.IdentityHeaders(own); err != nil {
		t.Fatal(err)
	}
	_, raw = verify(t, a, string(own.Header.Peek(HeaderAssertion)))
	if _, ok := raw["act"]; ok || len(own.Header.Peek(HeaderActor)) > 0 || len(own.Header.Peek(HeaderGrant)) > 0 {
		t.Errorf("the customer's own session carries an actor: %v", raw)
	}

	unchecked := out(&sessions.Session{ID: "sess-unchecked", Tenant: "acme", Kind: sessions.KindDelegated, AccountID: "cust-1"}, nil)
	if err := a.IdentityHeaders(unchecked); err == nil || !strings.Contains(err.Error(), "delegated") {
		t.Fatalf("unchecked delegated session: %v", err)
	}
}
