// Package assertion mints the signed identity assertion (X-Livery-Assertion)
// and the identity headers sent to the upstream, and publishes the JWKS
// that verifies them: a leaf the console proxy runs as a Rewrite hook.
package assertion

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
)

// Identity headers Livery sets towards the upstream. Inbound X-Livery-*
// headers are always stripped first. Free-text values (user and account
// names) are percent-encoded UTF-8.
const (
	HeaderTenant      = "X-Livery-Tenant"
	HeaderAccountID   = "X-Livery-Account-Id"
	HeaderAccountName = "X-Livery-Account-Name"
	HeaderUser        = "X-Livery-User"
	HeaderRoles       = "X-Livery-Roles"
	HeaderAssertion   = "X-Livery-Assertion"
	// HeaderActor and HeaderGrant name the partner staff member operating
	// the console under a delegation grant, and the grant (delegated
	// sessions only; the assertion's act claim says the same).
	HeaderActor = "X-Livery-Actor"
	HeaderGrant = "X-Livery-Grant"
)

// Issuer is the iss claim of identity assertions.
const Issuer = "livery"

// Signer mints short-lived ES256 JWTs that tell the upstream who the
// user is. Several keys may be configured: the first signs, all are
// published, so keys rotate without breaking verifiers.
type Signer struct {
	keys   []jose.JSONWebKey // private
	signer jose.Signer
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedAssertion // by session id + audience
}

type cachedAssertion struct {
	token string
	renew time.Time
}

// Claims is the payload of an identity assertion.
type Claims struct {
	jwt.Claims
	Tenant      string   `json:"tenant"`
	AccountName string   `json:"account_name,omitempty"`
	User        string   `json:"user,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	// Act is the RFC 8693 actor claim of a delegated session: the partner
	// staff member acting for the customer (sub) and the grant. Absent for
	// the customer's own sessions.
	Act *Actor `json:"act,omitempty"`
}

// Actor is the act claim (RFC 8693 section 4.1): who is acting on behalf
// of the subject, under which delegation grant.
type Actor struct {
	Subject string `json:"sub"`
	Grant   string `json:"livery_grant"`
}

// New uses the given ECDSA P-256 keys (the first signs). With no
// key it generates an ephemeral one (development: restarts change it).
func New(keys []*ecdsa.PrivateKey, ttl time.Duration) (*Signer, error) {
	if len(keys) == 0 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		keys = []*ecdsa.PrivateKey{k}
	}
	a := &Signer{ttl: ttl, now: time.Now, cache: map[string]cachedAssertion{}}
	for _, k := range keys {
		if k.Curve != elliptic.P256() {
			return nil, errors.New("assertion keys must be ECDSA P-256")
		}
		jwk := jose.JSONWebKey{Key: k, Algorithm: string(jose.ES256), Use: "sig"}
		pub := jwk.Public()
		tp, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, err
		}
		jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)[:16]
		a.keys = append(a.keys, jwk)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: a.keys[0]},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	a.signer = signer
	return a, nil
}

// ParseECKey reads a PEM ECDSA private key (SEC 1 or PKCS #8).
func ParseECKey(pemBytes []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not an EC private key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an ECDSA key")
	}
	return ec, nil
}

// JWKS returns the public keys.
func (a *Signer) JWKS() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range a.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}

// Token returns an assertion for the session, addressed to audience. A
// token is reused until half its lifetime has passed, so signing happens
// about once per session per ttl/2, not per request.
func (a *Signer) Token(sess *sessions.Session, audience string) (string, error) {
	return a.token(sess, audience, nil)
}

// token signs an assertion, with the act claim when act is set. The cache
// key is the session id: a delegated session has its own id, and its
// actor never changes.
func (a *Signer) token(sess *sessions.Session, audience string, act *Actor) (string, error) {
	key := sess.ID + "\x00" + audience
	now := a.now()
	a.mu.Lock()
	c, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(c.renew) {
		return c.token, nil
	}
	claims := Claims{
		Claims: jwt.Claims{Issuer: Issuer, Subject: sess.AccountID, Audience: jwt.Audience{audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
			Expiry: jwt.NewNumericDate(now.Add(a.ttl)), ID: web.RandomID()},
		Tenant: sess.Tenant, AccountName: sess.Account, User: sess.User, Roles: sess.Roles, Act: act,
	}
	tok, err := jwt.Signed(a.signer).Claims(claims).Serialize()
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	if len(a.cache) > 100000 {
		a.cache = map[string]cachedAssertion{}
	}
	a.cache[key] = cachedAssertion{token: tok, renew: now.Add(a.ttl / 2)}
	a.mu.Unlock()
	return tok, nil
}

// JWKSHandler publishes the assertion keys at /.well-known/jwks.json.
func (a *Signer) JWKSHandler(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(a.JWKS())
}

// IdentityHeaders is the proxy Rewrite hook that tells the upstream who is
// signed in. Anonymous requests (tenants without sign-in) carry none. A
// delegated request also carries X-Livery-Actor, X-Livery-Grant and the
// act claim; a delegated session without out.Delegation is an error (the
// exchange is aborted, never sent as the customer's own).
func (a *Signer) IdentityHeaders(out *exchange.Outbound) error {
	sess := out.Session
	if sess == nil {
		return nil
	}
	var act *Actor
	if d := out.Delegation; d != nil {
		act = &Actor{Subject: d.Actor, Grant: d.Grant}
	} else if sess.Kind == sessions.KindDelegated {
		return errors.New("identity assertion: a delegated session without its checked delegation")
	}
	tok, err := a.token(sess, out.Origin, act)
	if err != nil {
		return fmt.Errorf("identity assertion: %w", err)
	}
	h := &out.Header
	if act != nil {
		h.Set(HeaderActor, url.PathEscape(act.Subject))
		h.Set(HeaderGrant, act.Grant)
	}
	h.Set(HeaderTenant, sess.Tenant)
	h.Set(HeaderAccountID, sess.AccountID)
	h.Set(HeaderAccountName, url.PathEscape(sess.Account))
	h.Set(HeaderUser, url.PathEscape(sess.User))
	h.Set(HeaderRoles, strings.Join(sess.Roles, ","))
	h.Set(HeaderAssertion, tok)
	return nil
}
