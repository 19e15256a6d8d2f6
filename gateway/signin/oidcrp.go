package signin

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/livery/livery/tenants"
)

// OIDCClient is a relying-party registration at one provider.
type OIDCClient struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// AccountClaim names the claim carrying the partner-platform account id
	// (customer sign-in; default "sub").
	AccountClaim string
}

// relyingParty discovers its provider lazily and retries discovery after a
// failure, so one provider being down stops neither the gateway nor the
// other tenants. Key sets are refreshed by go-oidc on unknown key ids.
type relyingParty struct {
	cfg    OIDCClient
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
	endSess  string
	failedAt time.Time
	lastErr  error
}

// discoveryRetry is how long a failed discovery is remembered before the
// next request tries again.
const discoveryRetry = 3 * time.Second

// relyingParties are the customer sign-in relying parties, one per tenant,
// built from the tenant's SignIn the first time it is used and rebuilt when
// it changes (the tenant table swapped in other settings): a request uses
// the settings of the *Tenant it resolved, so one in flight finishes on
// the old settings. Safe for concurrent use.
type relyingParties struct {
	mu  sync.Mutex
	rps map[string]*tenantRP
}

type tenantRP struct {
	cfg *tenants.SignIn
	rp  *relyingParty
}

// of returns t's relying party; ok is false when t has no sign-in.
func (r *relyingParties) of(t *tenants.Tenant) (rp *relyingParty, ok bool) {
	if t.SignIn == nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.rps[t.ID]; e != nil && (e.cfg == t.SignIn || e.cfg.Equal(t.SignIn)) {
		return e.rp, true
	}
	if r.rps == nil {
		r.rps = map[string]*tenantRP{}
	}
	s := t.SignIn
	rp = newRelyingParty(OIDCClient{Issuer: s.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		Scopes: s.Scopes, AccountClaim: s.AccountClaim})
	r.rps[t.ID] = &tenantRP{cfg: s, rp: rp}
	return rp, true
}

func newRelyingParty(c OIDCClient) *relyingParty {
	if len(c.Scopes) == 0 {
		c.Scopes = slices.Clone(tenants.DefaultScopes)
	}
	if c.AccountClaim == "" {
		c.AccountClaim = "sub"
	}
	return &relyingParty{cfg: c, client: &http.Client{Timeout: 10 * time.Second}}
}

// get returns the discovered provider, discovering it if needed. Errors
// mean the provider is unreachable or its discovery document is invalid.
func (rp *relyingParty) get(ctx context.Context) (*oidc.Provider, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.provider != nil {
		return rp.provider, nil
	}
	if rp.lastErr != nil && time.Since(rp.failedAt) < discoveryRetry {
		return nil, rp.lastErr
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), rp.client), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, rp.cfg.Issuer)
	if err != nil {
		rp.lastErr, rp.failedAt = fmt.Errorf("oidc discovery %s: %w", rp.cfg.Issuer, err), time.Now()
		return nil, rp.lastErr
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&extra)
	rp.provider, rp.endSess, rp.lastErr = p, extra.EndSession, nil
	return p, nil
}

func (rp *relyingParty) oauth(p *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{ClientID: rp.cfg.ClientID, ClientSecret: rp.cfg.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: redirectURL, Scopes: rp.cfg.Scopes}
}

// verifier checks ID tokens (and bearer JWTs): signature, issuer, audience
// = client id, expiry. Only asymmetric algorithms are accepted ("none" and
// HMAC never are).
func (rp *relyingParty) verifier(p *oidc.Provider) *oidc.IDTokenVerifier {
	return p.Verifier(&oidc.Config{ClientID: rp.cfg.ClientID,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.PS256}})
}

func (rp *relyingParty) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, rp.client)
}

// redeem completes an authorization-code sign-in: it exchanges code (with
// the PKCE verifier of st) at p, and verifies the returned ID token
// (signature, issuer, audience, expiry) and its nonce against st. Every
// failure is a loginFailed error naming the step.
func (rp *relyingParty) redeem(ctx context.Context, p *oidc.Provider, redirectURL, code string, st *loginState) (rawID string, idt *oidc.IDToken, claims map[string]any, err error) {
	ctx = rp.ctx(ctx)
	tok, err := rp.oauth(p, redirectURL).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return "", nil, nil, loginFailed("code exchange refused", err)
	}
	rawID, _ = tok.Extra("id_token").(string)
	if rawID == "" {
		return "", nil, nil, loginFailed("no ID token", nil)
	}
	idt, err = rp.verifier(p).Verify(ctx, rawID)
	if err != nil {
		return "", nil, nil, loginFailed("ID token rejected", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return "", nil, nil, loginFailed("nonce mismatch", nil)
	}
	if err := idt.Claims(&claims); err != nil {
		return "", nil, nil, loginFailed("unreadable claims", err)
	}
	return rawID, idt, claims, nil
}

func (rp *relyingParty) endSession() string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.endSess
}
