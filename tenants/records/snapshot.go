package records

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/livery/livery/tenants"
)

// Snapshot is an immutable table of every tenant by id and by console
// host, built from List. The gateway holds one and swaps it atomically on
// change; reading it needs no store round trip. Safe for concurrent use.
type Snapshot struct {
	all    []Record
	byID   map[string]int
	byHost map[string]int
}

// NewSnapshot indexes rs (copied). Errors: an id or a host twice
// (ErrHostConflict for a host), which the Store never writes.
func NewSnapshot(rs []Record) (*Snapshot, error) {
	s := &Snapshot{byID: map[string]int{}, byHost: map[string]int{}}
	for _, r := range rs {
		if _, dup := s.byID[r.ID]; dup {
			return nil, fmt.Errorf("%w: %q twice in a snapshot", ErrExists, r.ID)
		}
		i := len(s.all)
		s.all = append(s.all, r.Clone())
		s.byID[r.ID] = i
		for _, h := range r.Hosts {
			if j, dup := s.byHost[h]; dup {
				return nil, &HostConflictError{Host: h, Tenant: r.ID, Other: s.all[j].ID}
			}
			s.byHost[h] = i
		}
	}
	return s, nil
}

// Snapshot reads every record and indexes it. Errors: the store's.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	rs, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	return NewSnapshot(rs)
}

// Len is the number of tenants.
func (s *Snapshot) Len() int { return len(s.all) }

// All returns a copy of every record, by id.
func (s *Snapshot) All() []Record {
	out := make([]Record, len(s.all))
	for i, r := range s.all {
		out[i] = r.Clone()
	}
	return out
}

// ByID returns a copy of tenant id's record.
func (s *Snapshot) ByID(id string) (Record, bool) {
	i, ok := s.byID[id]
	if !ok {
		return Record{}, false
	}
	return s.all[i].Clone(), true
}

// ByHost returns a copy of the record serving the Host header value host,
// matching like tenants.Registry.ByHost: a host stored with a port
// matches only that port, one without matches any; case and a trailing
// dot are ignored.
func (s *Snapshot) ByHost(host string) (Record, bool) {
	host = strings.ToLower(host)
	if i, ok := s.byHost[host]; ok {
		return s.all[i].Clone(), true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	i, ok := s.byHost[strings.TrimSuffix(name, ".")]
	if !ok {
		return Record{}, false
	}
	return s.all[i].Clone(), true
}

// Live is one tenant as the gateway runs it: the tenants.Tenant, its
// status and its clients' settings with secrets opened.
type Live struct {
	Tenant    tenants.Tenant
	Suspended bool
	Version   int64
	// SignIn is nil when the tenant has no sign-in provider.
	SignIn      *LiveSignIn
	Provisioner LiveProvisioner
	// AssociationType is the default association type of registrations
	// ("2" resale unless the record says "1").
	AssociationType string
}

// LiveSignIn is SignIn with the client secret opened.
type LiveSignIn struct {
	Issuer, ClientID, ClientSecret string
	Scopes                         []string
	AccountClaim                   string // default "sub"
}

// LiveProvisioner is Provisioner with the token opened.
type LiveProvisioner struct{ Kind, URL, Token string }

// Live builds every tenant's Live value, opening secrets with u. A tenant
// whose record does not convert (a secret that does not open: ErrUnseal)
// is left out and named in the returned error; the others are returned.
func (s *Snapshot) Live(u Unsealer) ([]Live, error) {
	out := make([]Live, 0, len(s.all))
	var errs []error
	for _, r := range s.all {
		l, err := live(r, u)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %q: %w", r.ID, err))
			continue
		}
		out = append(out, l)
	}
	return out, errors.Join(errs...)
}

func live(r Record, u Unsealer) (Live, error) {
	t, err := r.Tenant()
	if err != nil {
		return Live{}, err
	}
	l := Live{Tenant: t, Suspended: r.Status == StatusSuspended, Version: r.Version, AssociationType: r.Association.Type,
		Provisioner: LiveProvisioner{Kind: r.Provisioner.Kind, URL: r.Provisioner.URL}}
	if l.AssociationType == "" {
		l.AssociationType = tenants.AssociationResale
	}
	if len(r.Provisioner.TokenSealed) > 0 {
		p, err := u.Open(r.ID, FieldProvisionerToken, r.Provisioner.TokenSealed)
		if err != nil {
			return Live{}, err
		}
		l.Provisioner.Token = string(p)
	}
	if si := r.SignIn; si != nil {
		l.SignIn = &LiveSignIn{Issuer: si.Issuer, ClientID: si.ClientID, Scopes: slices.Clone(si.Scopes), AccountClaim: si.AccountClaim}
		if l.SignIn.AccountClaim == "" {
			l.SignIn.AccountClaim = "sub"
		}
		if len(si.ClientSecretSealed) > 0 {
			p, err := u.Open(r.ID, FieldClientSecret, si.ClientSecretSealed)
			if err != nil {
				return Live{}, err
			}
			l.SignIn.ClientSecret = string(p)
		}
	}
	return l, nil
}

// Registry returns the snapshot's tenants as a tenants.Registry (every
// tenant, suspended ones included: the gateway answers them with its
// suspension page). Errors: those of NewRegistry and of Record.Tenant.
func (s *Snapshot) Registry() (*tenants.Registry, error) {
	ts := make([]tenants.Tenant, 0, len(s.all))
	for _, r := range s.all {
		t, err := r.Tenant()
		if err != nil {
			return nil, fmt.Errorf("tenant %q: %w", r.ID, err)
		}
		ts = append(ts, t)
	}
	return tenants.NewRegistry(ts)
}
