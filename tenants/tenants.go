// Package tenants is the partner domain: partners (tenants) and their
// lookup by console host, customers (account mappings) and their
// registration, access keys, and the events of the partner API's audit
// trail. It holds types, validation, sentinel errors and the interfaces it
// consumes (Index, Provisioner, CodeChecker) and imports no adapter: the
// Redis customer index is tenants/redisindex, the HTTP provisioner
// tenants/httpprovision, rate limits and risk control tenants/ratelimit.
// Durable state goes through the object-store port (internal/objstore).
//
// Tenants live in the object store (tenants/records), seeded from the
// configuration file; a Registry is one immutable snapshot of them, safe for
// concurrent use, and tenants/live swaps snapshots atomically on change.
package tenants

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Tenant is one partner reselling the cloud under its own brand.
type Tenant struct {
	ID       string
	Name     Names
	Hosts    []string // normalized console hosts (lower case, optional :port)
	Upstream *url.URL // the cloud console this tenant's customers reach
	// XAccountType is the platform id the partner's API requests carry.
	XAccountType string
	// Risk limits the partner's registrations.
	Risk RiskPolicy
	// Suspended tenants are answered with a "service suspended" page on
	// the console and 403 CBC.0151 on the partner API.
	Suspended bool
	// Version is the record's version (0 for a tenant built in code).
	Version int64
	// SignIn is the customers' OpenID Connect provider; nil: the console is
	// served without sign-in (development).
	SignIn *SignIn
	// Provisioner creates the cloud accounts of the tenant's customers.
	Provisioner ProvisionerSettings
	// AssociationType is the default association type of registrations
	// that name none (AssociationResale when empty).
	AssociationType string
}

// DefaultScopes are the scopes a sign-in requests when its settings name
// none.
var DefaultScopes = []string{"openid", "profile", "email"}

// SignIn is a tenant's OpenID Connect relying-party registration, secret
// opened.
type SignIn struct {
	Issuer, ClientID, ClientSecret string
	// Scopes requested; empty: DefaultScopes.
	Scopes []string
	// AccountClaim carries the partner-platform account id (default sub).
	AccountClaim string
}

// Equal reports whether s and o name the same client with the same
// settings (a relying party built for one serves the other).
func (s *SignIn) Equal(o *SignIn) bool {
	if s == nil || o == nil {
		return s == o
	}
	return s.Issuer == o.Issuer && s.ClientID == o.ClientID && s.ClientSecret == o.ClientSecret &&
		slices.Equal(s.Scopes, o.Scopes) && s.AccountClaim == o.AccountClaim
}

// ProvisionerSettings select how cloud accounts are created: Kind
// "builtin" (or empty) or "http" (POST to URL with the bearer Token).
type ProvisionerSettings struct{ Kind, URL, Token string }

// Names is a display name in Chinese and English.
type Names struct{ ZH, EN string }

// ErrDuplicate is returned by NewRegistry when two tenants share an id or a host.
var ErrDuplicate = errors.New("tenants: duplicate")

// Registry resolves tenants by id and by console host.
type Registry struct {
	byID   map[string]*Tenant
	byHost map[string]*Tenant
	all    []*Tenant
}

// NewRegistry indexes ts. It returns an error wrapping ErrDuplicate when an
// id or host appears twice. Hosts must already be normalized (lower case,
// no trailing dot), as the configuration validator does.
func NewRegistry(ts []Tenant) (*Registry, error) {
	r := &Registry{byID: map[string]*Tenant{}, byHost: map[string]*Tenant{}}
	for i := range ts {
		t := &ts[i]
		if _, dup := r.byID[t.ID]; dup {
			return nil, fmt.Errorf("%w tenant id %q", ErrDuplicate, t.ID)
		}
		r.byID[t.ID] = t
		for _, h := range t.Hosts {
			if other, dup := r.byHost[h]; dup {
				return nil, fmt.Errorf("%w host %q (tenants %q and %q)", ErrDuplicate, h, other.ID, t.ID)
			}
			r.byHost[h] = t
		}
		r.all = append(r.all, t)
	}
	return r, nil
}

// ByID returns the tenant with the given id.
func (r *Registry) ByID(id string) (*Tenant, bool) {
	t, ok := r.byID[id]
	return t, ok
}

// ByHost returns the tenant serving the given Host header value. A host
// configured with a port matches only that port; a host configured without
// one matches any port. Matching ignores case and a trailing dot.
func (r *Registry) ByHost(host string) (*Tenant, bool) {
	host = strings.ToLower(host)
	if t, ok := r.byHost[host]; ok {
		return t, true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(name, ".")
	t, ok := r.byHost[name]
	return t, ok
}

// All returns every tenant in configuration order.
func (r *Registry) All() []*Tenant { return r.all }
