package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// who is the identity the gateway asserted for a request, after the demo
// console verified the X-Livery-Assertion JWT against the gateway's JWKS.
type who struct {
	Verified  bool     `json:"verified"`
	Error     string   `json:"error,omitempty"`
	User      string   `json:"user,omitempty"`
	Account   string   `json:"account_name,omitempty"`
	AccountID string   `json:"account_id,omitempty"`
	Tenant    string   `json:"tenant,omitempty"`
	Roles     []string `json:"roles,omitempty"`
}

// verifier checks assertions: ES256 signature by a key of the gateway's
// JWKS (re-fetched on an unknown key id, at most every 5 s), issuer
// "livery", audience = this console's origin, expiry.
type verifier struct {
	jwksURL, audience string
	client            *http.Client

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time
}

func (v *verifier) key(kid string) (*jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ks := v.keys.Key(kid); len(ks) > 0 {
		return &ks[0], nil
	}
	if time.Since(v.fetched) < 5*time.Second {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	v.fetched = time.Now()
	resp, err := v.client.Get(v.jwksURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	v.keys = set
	if ks := v.keys.Key(kid); len(ks) > 0 {
		return &ks[0], nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

func (v *verifier) verify(raw string) who {
	if raw == "" {
		return who{}
	}
	fail := func(err error) who { return who{Error: err.Error()} }
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return fail(err)
	}
	if len(tok.Headers) != 1 {
		return fail(errors.New("one signature expected"))
	}
	k, err := v.key(tok.Headers[0].KeyID)
	if err != nil {
		return fail(err)
	}
	var std jwt.Claims
	var c struct {
		Tenant      string   `json:"tenant"`
		AccountName string   `json:"account_name"`
		User        string   `json:"user"`
		Roles       []string `json:"roles"`
	}
	if err := tok.Claims(k.Key, &std, &c); err != nil {
		return fail(err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: "livery", AnyAudience: jwt.Audience{v.audience}, Time: time.Now()}, 5*time.Second); err != nil {
		return fail(err)
	}
	return who{Verified: true, User: c.User, Account: c.AccountName, AccountID: std.Subject, Tenant: c.Tenant, Roles: c.Roles}
}

func (s *server) whoOf(r *http.Request) *who {
	if s.verifier == nil {
		return nil
	}
	w := s.verifier.verify(r.Header.Get("X-Livery-Assertion"))
	return &w
}

func (s *server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	who := s.whoOf(r)
	if who == nil {
		writeJSON(w, http.StatusOK, map[string]string{"error": "assertion verification not configured"})
		return
	}
	writeJSON(w, http.StatusOK, who)
}
