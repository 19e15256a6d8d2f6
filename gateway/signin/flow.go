package signin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/redisx"
)

// LoginKeyPrefix prefixes the Redis keys of login states.
const LoginKeyPrefix = redisx.KeyLogin

// loginState is kept server-side for the length of one sign-in.
type loginState struct {
	Tenant   string `json:"tenant"` // the audience: a tenant id, or staffAudience
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	Return   string `json:"return"`
	Bind     string `json:"bind"` // hash of the pre-login cookie
}

// loginStates is the store of login states: one key per sign-in (the
// hash of its state parameter), read once, expiring after LoginStateTTL.
// Errors are the store's.
type loginStates struct{ rdb redis.UniversalClient }

func (s loginStates) put(ctx context.Context, state string, st loginState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, LoginKeyPrefix+web.HashToken(state), b, LoginStateTTL).Err()
}

// take returns and deletes the state; found is false for an unknown,
// expired or used state.
func (s loginStates) take(ctx context.Context, state string) (st loginState, found bool, err error) {
	raw, err := s.rdb.GetDel(ctx, LoginKeyPrefix+web.HashToken(state)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return st, false, nil
	case err != nil:
		return st, false, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, false, nil // not a state this code wrote: as unknown
	}
	return st, true, nil
}

// flow is the one OpenID Connect authorization-code sign-in (PKCE S256,
// state, nonce, a pre-login cookie binding the sign-in to its browser),
// set up once for customers (per tenant) and once for staff. A fix to the
// protocol is made here, once.
type flow struct {
	states  loginStates
	cookies web.Cookies
	bind    string // the pre-login cookie's base name
	// unavailable answers a failed login-state store (retryable).
	unavailable func(err error) error
}

// start begins a sign-in at rp for audience, returning to ret afterwards,
// and answers the redirect to the provider. idpDown answers a provider
// that cannot be reached.
func (f flow) start(c *fiber.Ctx, rp *relyingParty, redirectURL, audience, ret string, idpDown func(error) error) error {
	p, err := rp.get(c.UserContext())
	if err != nil {
		return idpDown(err)
	}
	bind, state, nonce, verifier := web.RandomToken(), web.RandomToken(), web.RandomToken(), oauth2.GenerateVerifier()
	st := loginState{Tenant: audience, Verifier: verifier, Nonce: nonce, Return: loginReturn(ret), Bind: web.HashToken(bind)}
	if err := f.states.put(c.UserContext(), state, st); err != nil {
		return f.unavailable(err)
	}
	f.cookies.Set(c, f.bind, bind, LoginStateTTL)
	u := rp.oauth(p, redirectURL).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(u, fiber.StatusFound)
}

// signedIn is a completed sign-in.
type signedIn struct {
	rawID  string
	idt    *oidc.IDToken
	claims map[string]any
	ret    string // the return path
}

// finish completes the sign-in the provider redirected back with: the
// state (known, unused, of this audience), the binding cookie (constant
// time), the code exchange with the PKCE verifier and the ID token
// (signature, issuer, audience, expiry, nonce). The provider's own refusal
// (?error=) is answered by refused. Every other refusal is a
// loginFailed error naming the step; the binding cookie is cleared.
func (f flow) finish(c *fiber.Ctx, rp *relyingParty, redirectURL, audience string,
	refused func(code string) error, idpDown func(error) error) (*signedIn, error) {
	if e := c.Query("error"); e != "" {
		return nil, refused(web.SanitizeCode(e))
	}
	state := c.Query("state")
	if state == "" || len(state) > 256 {
		return nil, loginFailed("missing state", nil)
	}
	st, found, err := f.states.take(c.UserContext(), state)
	switch {
	case err != nil:
		return nil, f.unavailable(err) // the store failed: retryable, not the user's fault
	case !found:
		return nil, loginFailed("unknown or used state", nil)
	case st.Tenant != audience:
		return nil, loginFailed("state of another console", nil)
	}
	if subtle.ConstantTimeCompare([]byte(web.HashToken(f.cookies.Get(c, f.bind))), []byte(st.Bind)) != 1 {
		return nil, loginFailed("sign-in started in another browser", nil)
	}
	f.cookies.Set(c, f.bind, "", -1)
	p, err := rp.get(c.UserContext())
	if err != nil {
		return nil, idpDown(err)
	}
	rawID, idt, claims, err := rp.redeem(c.UserContext(), p, redirectURL, c.Query("code"), &st)
	if err != nil {
		return nil, err
	}
	return &signedIn{rawID: rawID, idt: idt, claims: claims, ret: st.Return}, nil
}
