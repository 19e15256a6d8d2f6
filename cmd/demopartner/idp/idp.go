// Package idp is a small OpenID Connect provider for the demo partner platform
// and for Livery's tests. It is demo/test only: state lives in memory, signing
// keys are generated at start and nothing is persisted.
//
// It implements the authorization code flow with mandatory PKCE (S256),
// discovery, JWKS, userinfo, RP-initiated logout (end_session) and OpenID
// Connect Back-Channel Logout 1.0 logout tokens. ID tokens are RS256 JWTs
// signed with go-jose. Helpers mint deliberately defective tokens for
// negative tests.
//
// Handler serves paths relative to the issuer's path: for an issuer of
// "https://partner.example/idp" mount it with
// http.StripPrefix("/idp", p.Handler()).
package idp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// User is an account the provider can authenticate.
type User struct {
	Subject  string // "sub" claim; also accepted as login name
	Name     string // "name" claim; also accepted as login name
	Email    string // "email" claim; also accepted as login name
	Password string
	// Claims are extra ID token / userinfo claims, e.g. "roles", "tenant",
	// "xaccount_id". They never override the registered claims.
	Claims map[string]any
}

// Client is a registered relying party. An empty Secret makes it a public
// client (token endpoint auth method "none"; PKCE still required).
type Client struct {
	ID, Secret                           string
	RedirectURIs, PostLogoutRedirectURIs []string
	BackchannelLogoutURI                 string
}

// Options configure a Provider.
type Options struct {
	Issuer     string // external base URL, e.g. "http://127.0.0.1:9091/idp"
	Users      []User
	Clients    []Client
	Logger     *slog.Logger
	Now        func() time.Time
	IDTokenTTL time.Duration // default 5m; also the access token lifetime
}

// Defect selects a deliberate flaw in a minted ID token.
type Defect int

// Defects understood by MintIDToken and NextTokenDefect.
const (
	DefectNone          Defect = iota
	DefectExpired              // exp in the past
	DefectWrongAudience        // aud is not the client
	DefectWrongIssuer          // iss is not the issuer
	DefectAlgNone              // unsigned token, header alg "none"
	DefectBadSignature         // RS256 signature with a flipped bit
	DefectUnknownKID           // signed by a key the JWKS never publishes
	DefectWrongNonce           // nonce differs from the requested one
)

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

type session struct {
	sid, subject string
	authTime     time.Time
}

type codeGrant struct {
	clientID, redirectURI, challenge, nonce, scope string
	sess                                           session
	expires                                        time.Time
	used                                           bool
	accessToken                                    string
}

type accessGrant struct {
	subject, clientID, scope string
	expires                  time.Time
}

// Provider is an in-memory OpenID Connect provider. It is safe for
// concurrent use.
type Provider struct {
	issuer     string
	cookiePath string
	cookieName string
	log        *slog.Logger
	now        func() time.Time
	ttl        time.Duration
	httpClient *http.Client

	mu         sync.Mutex
	keys       []signingKey // last one signs
	users      []User
	clients    map[string]Client
	sessions   map[string]session // by sid, live IdP browser sessions
	issued     map[string][]string
	codes      map[string]*codeGrant
	tokens     map[string]accessGrant
	autoLogin  string
	nextDefect Defect
	signups    map[string]signupTicket // by SHA-256 of the ticket
}

// New validates o and returns a Provider with one fresh RSA signing key.
func New(o Options) (*Provider, error) {
	u, err := url.Parse(strings.TrimSuffix(o.Issuer, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("idp: issuer %q must be an absolute http(s) URL without query or fragment", o.Issuer)
	}
	p := &Provider{
		issuer:     u.String(),
		cookiePath: u.Path + "/",
		cookieName: "demoidp_" + shortHash(u.String()),
		log:        o.Logger,
		now:        o.Now,
		ttl:        o.IDTokenTTL,
		httpClient: &http.Client{Timeout: 10 * time.Second},
		clients:    map[string]Client{},
		sessions:   map[string]session{},
		issued:     map[string][]string{},
		codes:      map[string]*codeGrant{},
		tokens:     map[string]accessGrant{},
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.ttl <= 0 {
		p.ttl = 5 * time.Minute
	}
	for _, c := range o.Clients {
		if err := p.AddClient(c); err != nil {
			return nil, err
		}
	}
	for _, usr := range o.Users {
		if err := p.AddUser(usr); err != nil {
			return nil, err
		}
	}
	if _, err := p.rotate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Issuer returns the issuer URL (without trailing slash).
func (p *Provider) Issuer() string { return p.issuer }

// AddClient registers c, replacing any client with the same ID. Use it to
// register a redirect URI whose port is only known after a server started.
func (p *Provider) AddClient(c Client) error {
	if c.ID == "" {
		return errors.New("idp: client ID is required")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[c.ID] = c
	return nil
}

// AddUser registers u. It fails when u.Subject is empty or already taken.
func (p *Provider) AddUser(u User) error {
	if u.Subject == "" {
		return errors.New("idp: user subject is required")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range p.users {
		if x.Subject == u.Subject {
			return fmt.Errorf("idp: user %q already exists", u.Subject)
		}
	}
	p.users = append(p.users, u)
	return nil
}

// SetAutoLogin makes /authorize log subject in without showing the form
// (tests). "" turns it off.
func (p *Provider) SetAutoLogin(subject string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.autoLogin = subject
}

// NextTokenDefect makes the next successful /token exchange return an ID
// token with defect d. DefectNone cancels it.
func (p *Provider) NextTokenDefect(d Defect) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextDefect = d
}

// RotateKey adds a new signing key and returns its kid. The JWKS keeps
// publishing the old keys; new tokens use the new kid. It panics only if the
// system random source fails.
func (p *Provider) RotateKey() (kid string) {
	kid, err := p.rotate()
	if err != nil {
		panic(err)
	}
	return kid
}

func (p *Provider) rotate() (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("idp: generate key: %w", err)
	}
	kid := "k-" + randomString(8)
	p.mu.Lock()
	p.keys = append(p.keys, signingKey{kid: kid, key: k})
	p.mu.Unlock()
	return kid, nil
}

// SessionsOf returns the sids issued to subject, oldest first (ended ones
// included).
func (p *Provider) SessionsOf(subject string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.issued[subject]...)
}

// Handler returns the provider's HTTP endpoints, relative to the issuer path.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("POST /userinfo", p.userinfo)
	mux.HandleFunc("GET /end_session", p.endSession)
	mux.HandleFunc("POST /end_session", p.endSession)
	mux.HandleFunc("POST /signup-session", p.signupSession)
	return mux
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         p.issuer,
		"authorization_endpoint":                         p.issuer + "/authorize",
		"token_endpoint":                                 p.issuer + "/token",
		"jwks_uri":                                       p.issuer + "/jwks",
		"userinfo_endpoint":                              p.issuer + "/userinfo",
		"end_session_endpoint":                           p.issuer + "/end_session",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code"},
		"subject_types_supported":                        []string{"public"},
		"scopes_supported":                               []string{"openid", "profile", "email"},
		"claims_supported":                               []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "name", "email"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
		"authorization_response_iss_parameter_supported": true,
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	set := jose.JSONWebKeySet{}
	for _, k := range p.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, set)
}

// findUser matches login against Subject, then Name, then Email.
func (p *Provider) findUser(login string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, match := range []func(User) bool{
		func(u User) bool { return u.Subject == login },
		func(u User) bool { return u.Name != "" && u.Name == login },
		func(u User) bool { return u.Email != "" && strings.EqualFold(u.Email, login) },
	} {
		for _, u := range p.users {
			if match(u) {
				return u, true
			}
		}
	}
	return User{}, false
}

func (p *Provider) client(id string) (Client, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.clients[id]
	return c, ok
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
