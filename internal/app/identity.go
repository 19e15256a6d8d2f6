package app

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/signin"
	"github.com/livery/livery/internal/config"
)

// identityParts are the sign-in, session and authorization pieces of one
// process, built from the configuration.
type identityParts struct {
	sessions   *sessions.Store
	authz      *authz.Casbin
	assertions *assertion.Signer
	identity   *signin.IdentityOptions
	admin      *gateway.AdminOptions // nil without staff.oidc
}

// buildIdentity wires customer sign-in (tenants with an oidc block), the
// identity assertion signer, staff sign-in with the admin API (when
// staff.oidc is configured) and the Casbin authorizer. Errors name the
// setting that is wrong.
func buildIdentity(cfg *config.Config, svc *services, log *slog.Logger) (*identityParts, error) {
	az, err := authz.NewCasbin("", cfg.Authz.PolicyFile, authz.Options{Logger: log.With("component", "authz")})
	if err != nil {
		return nil, fmt.Errorf("authz.policy_file: %w", err)
	}
	asr, err := loadAssertions(cfg.Identity, log)
	if err != nil {
		return nil, err
	}
	st := sessions.New(svc.rdb, sessions.Options{IdleTimeout: cfg.Sessions.IdleTimeout,
		MaxLifetime: cfg.Sessions.MaxLifetime, CacheEntries: cfg.Sessions.CacheEntries, Logger: log.With("component", "sessions")})
	p := &identityParts{sessions: st, authz: az, assertions: asr}
	for _, t := range svc.tenants.All() {
		if t.SignIn == nil {
			log.Warn("tenant without a sign-in provider: its console is served without sign-in (development only)", "tenant", t.ID)
		}
	}
	p.identity = &signin.IdentityOptions{Sessions: st, Redis: svc.rdb, Customers: svc.customers,
		CookieSecure: cfg.Sessions.CookieSecure, Authorizer: az,
		LoginLimiter: svc.limiter, LoginRate: riskLimit(cfg.Sessions.LoginRate), PublicPaths: publicPaths(cfg.Branding.CloudLogo)}
	if o := cfg.Identity.CloudSignIn; o != nil {
		p.identity.Cloud = &signin.OIDCClient{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
			Scopes: o.Scopes, AccountClaim: o.AccountClaim}
		p.identity.Accounts = svc.customers
	}
	if s := cfg.Staff; s.OIDC.Issuer != "" {
		p.admin = &gateway.AdminOptions{
			Staff: signin.StaffOptions{
				Client: signin.OIDCClient{Issuer: s.OIDC.Issuer, ClientID: s.OIDC.ClientID,
					ClientSecret: s.OIDC.ClientSecret, Scopes: s.OIDC.Scopes},
				PublicURL: s.PublicURL, RolesClaim: s.RolesClaim, TenantClaim: s.TenantClaim, RoleMap: s.RoleMap,
				Sessions: st, Redis: svc.rdb, CookieSecure: cfg.Sessions.CookieSecure,
				LoginLimiter: svc.limiter, LoginRate: riskLimit(cfg.Sessions.LoginRate),
				Directory: svc.staff, Logger: log.With("component", "signin"),
			},
			Authorizer: az,
			Customers:  svc.customers,
			Managers:   svc.managers,
			Directory:  svc.staff,
			Keys:       svc.keys,
			Records:    svc.records,
			APIStats:   svc.apiStats,
		}
	}
	return p, nil
}

// watchPolicy follows the policy file until ctx ends; the embedded policy
// cannot change and is not watched.
func (p *identityParts) watchPolicy(ctx context.Context, log *slog.Logger) {
	go func() {
		if err := p.authz.Watch(ctx); err != nil && !errors.Is(err, authz.ErrNoPolicyFile) {
			log.Error("authz: policy file is no longer watched; restart to pick up changes", "err", err)
		}
	}()
}

// loadAssertions reads the assertion signing keys (PEM, ECDSA P-256); the
// first signs, all are published. Without keys an ephemeral key is made.
func loadAssertions(c config.Identity, log *slog.Logger) (*assertion.Signer, error) {
	keys := make([]*ecdsa.PrivateKey, 0, len(c.AssertionKeys))
	for i, path := range c.AssertionKeys {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("identity.assertion_keys[%d]: %w", i, err)
		}
		k, err := assertion.ParseECKey(b)
		if err != nil {
			return nil, fmt.Errorf("identity.assertion_keys[%d] (%s): %w", i, path, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		log.Warn("no identity.assertion_keys configured: signing identity assertions with an ephemeral key (development only; upstreams must refetch the JWKS after each restart)")
	}
	a, err := assertion.New(keys, c.AssertionTTL)
	if err != nil {
		return nil, fmt.Errorf("identity.assertion_keys: %w", err)
	}
	return a, nil
}

// CheckReferencedFiles loads what the configuration validator cannot judge
// by itself (the Casbin policy file, the assertion keys, the console
// selectors the renderer accepts), so that check-config and serve refuse
// them up front. It returns one line per problem, naming the setting.
func CheckReferencedFiles(cfg *config.Config) []string {
	var problems []string
	quiet := slog.New(slog.DiscardHandler)
	if cfg.Authz.PolicyFile != "" {
		if _, err := authz.NewCasbin("", cfg.Authz.PolicyFile, authz.Options{Logger: quiet}); err != nil {
			problems = append(problems, "authz.policy_file: "+err.Error())
		}
	}
	if _, err := upstreamOf(cfg.Branding); err != nil {
		for _, e := range unwrapAll(err) {
			problems = append(problems, e.Error())
		}
	}
	if _, err := redisOptions(cfg.Redis); err != nil {
		problems = append(problems, err.Error())
	}
	if len(cfg.Identity.AssertionKeys) > 0 {
		if _, err := loadAssertions(cfg.Identity, quiet); err != nil {
			problems = append(problems, err.Error())
		}
	}
	return problems
}

// publicPaths are the console paths of the cloud's logo (relative URLs of
// branding.cloud_logo): the chrome of signed-out pages shows it too.
func publicPaths(l config.CloudLogo) []string {
	var out []string
	for _, u := range []string{l.URLZH, l.URLEN} {
		if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.ContainsAny(u, "?#\\") && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}
