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

// Tenants builds every tenant as the gateway runs it — status, sign-in
// provider, provisioner and association default included, secrets opened
// with u — in id order. A tenant whose record does not convert (a secret
// that does not open: ErrUnseal) is left out, so its hosts are unknown
// rather than served without sign-in, and named in the returned error;
// the others are returned.
func (s *Snapshot) Tenants(u Unsealer) ([]tenants.Tenant, error) {
	out := make([]tenants.Tenant, 0, len(s.all))
	var errs []error
	for _, r := range s.all {
		t, err := live(r, u)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %q: %w", r.ID, err))
			continue
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}

func live(r Record, u Unsealer) (tenants.Tenant, error) {
	t, err := r.Tenant()
	if err != nil {
		return t, err
	}
	t.Suspended, t.Version, t.AssociationType = r.Status == StatusSuspended, r.Version, r.Association.Type
	if t.AssociationType == "" {
		t.AssociationType = tenants.AssociationResale
	}
	t.Provisioner = tenants.ProvisionerSettings{Kind: r.Provisioner.Kind, URL: r.Provisioner.URL}
	if len(r.Provisioner.TokenSealed) > 0 {
		p, err := u.Open(r.ID, FieldProvisionerToken, r.Provisioner.TokenSealed)
		if err != nil {
			return tenants.Tenant{}, err
		}
		t.Provisioner.Token = string(p)
	}
	if si := r.SignIn; si != nil {
		t.SignIn = &tenants.SignIn{Issuer: si.Issuer, ClientID: si.ClientID, Scopes: slices.Clone(si.Scopes), AccountClaim: si.AccountClaim}
		if t.SignIn.AccountClaim == "" {
			t.SignIn.AccountClaim = "sub"
		}
		if len(si.ClientSecretSealed) > 0 {
			p, err := u.Open(r.ID, FieldClientSecret, si.ClientSecretSealed)
			if err != nil {
				return tenants.Tenant{}, err
			}
			t.SignIn.ClientSecret = string(p)
		}
	}
	return t, nil
}

// Registry returns the snapshot's tenants (Tenants) as a tenants.Registry:
// every tenant whose secrets open, suspended ones included (the gateway
// answers them with its suspension page). The error joins those of
// Tenants (the registry is still returned) and, fatally (nil registry),
// NewRegistry's.
func (s *Snapshot) Registry(u Unsealer) (*tenants.Registry, error) {
	ts, terr := s.Tenants(u)
	reg, err := tenants.NewRegistry(ts)
	if err != nil {
		return nil, err
	}
	return reg, terr
}
