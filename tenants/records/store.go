package records

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
)

// RegistryKey is the object holding every tenant record.
const RegistryKey = "tenants/registry.json"

// AuditStream is the audit stream of tenant changes: audit/<tenant>/tenants/.
const AuditStream = "tenants"

// Audit events of tenant records.
const (
	EventCreated     = "tenant.create"
	EventUpdated     = "tenant.update"
	EventSuspended   = "tenant.suspend"
	EventResumed     = "tenant.resume"
	EventSeedCreated = "tenant.seed.create"
	EventSeedUpdated = "tenant.seed.update"
)

// SeedActor is UpdatedBy of records written by Seed.
const SeedActor = "config-file"

// Notifier is told after every stored change, once per write of the
// registry with every tenant it changed (one for an operation, all the
// seeded ones for Seed): the gateway rebuilds its Snapshot once and tells
// the other instances.
type Notifier interface {
	TenantsChanged(ctx context.Context, ids []string)
}

// Options configure a Store. Zero values select the defaults.
type Options struct {
	// Audit receives the change records (default: the "tenants" stream
	// of the same object store).
	Audit    audit.Sink
	Notifier Notifier
	Now      func() time.Time
	Logger   *slog.Logger
}

// Store keeps tenant records in the object store. It is stateless and
// safe for concurrent use, also from several processes sharing the store.
type Store struct {
	store    objstore.Store
	sealer   *Sealer
	audit    audit.Sink
	notifier Notifier
	now      func() time.Time
	log      *slog.Logger
}

// New returns a Store on store sealing secrets with sealer.
func New(store objstore.Store, sealer *Sealer, o Options) *Store {
	s := &Store{store: store, sealer: sealer, audit: o.Audit, notifier: o.Notifier, now: o.Now, log: o.Logger}
	if s.audit == nil {
		s.audit = audit.NewLog(store, AuditStream)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// PendingAudit is the audit record of a record's last change, kept in the
// record until it is known to be in the audit log. Callers neither set
// nor show it.
type PendingAudit struct {
	Event  string        `json:"event"`
	Time   time.Time     `json:"time"`
	Actor  authz.Subject `json:"actor,omitzero"`
	Reason string        `json:"reason,omitempty"`
	Detail string        `json:"detail,omitempty"`
}

type registry struct {
	Format  int               `json:"format"`
	Tenants map[string]Record `json:"tenants"`
}

func (s *Store) load(ctx context.Context) (registry, string, error) {
	reg, obj, err := objstore.GetJSON[registry](ctx, s.store, RegistryKey)
	if errors.Is(err, objstore.ErrNotFound) {
		return registry{Format: 1, Tenants: map[string]Record{}}, "", nil
	}
	if err != nil {
		return registry{}, "", fmt.Errorf("records: read registry: %w", err)
	}
	if reg.Tenants == nil {
		reg.Tenants = map[string]Record{}
	}
	return reg, obj.ETag, nil
}

// swap is the compare-and-swap loop on the registry: change edits reg and
// returns the ids it changed (none: nothing is written). Each attempt
// re-reads the registry. After a write the changes are audited and
// announced; stored reports the write, and an error with stored set is an
// audit failure only.
func (s *Store) swap(ctx context.Context, change func(reg *registry) ([]string, error)) (reg registry, stored bool, err error) {
	for range 16 {
		reg, etag, err := s.load(ctx)
		if err != nil {
			return registry{}, false, err
		}
		before := make(map[string]Record, len(reg.Tenants))
		for id, r := range reg.Tenants {
			before[id] = r
		}
		ids, err := change(&reg)
		if err != nil || len(ids) == 0 {
			return reg, false, err
		}
		// The previous change's audit record must be stored before its
		// record is replaced (it lives only there until then).
		for _, id := range ids {
			if old, ok := before[id]; ok {
				if err := s.flush(ctx, old); err != nil {
					return registry{}, false, err
				}
			}
		}
		_, err = objstore.PutJSON(ctx, s.store, RegistryKey, reg, objstore.PutOptions{IfMatch: etag, IfNoneMatch: etag == ""})
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			continue
		}
		if err != nil {
			return registry{}, false, fmt.Errorf("records: store registry: %w", err)
		}
		var auditErr error
		for _, id := range ids {
			auditErr = errors.Join(auditErr, s.flush(ctx, reg.Tenants[id]))
		}
		if s.notifier != nil {
			s.notifier.TenantsChanged(ctx, ids)
		}
		return reg, true, auditErr
	}
	return registry{}, false, errors.New("records: registry: too much contention")
}

// flush writes r's pending audit record (idempotent: its key derives from
// the record's version). The error says the change is stored but its
// audit record is not yet (it is retried by the next write and by Seed).
func (s *Store) flush(ctx context.Context, r Record) error {
	p := r.PendingAudit
	if p == nil {
		return nil
	}
	err := s.audit.Record(ctx, audit.Record{ID: fmt.Sprintf("v%d", r.Version), Time: p.Time, Event: p.Event,
		Tenant: r.ID, Actor: p.Actor, Reason: p.Reason, Detail: p.Detail})
	if err != nil {
		s.log.Error("records: tenant changed but audit record failed", "tenant", r.ID, "event", p.Event, "version", r.Version, "err", err)
		return fmt.Errorf("records: %s of %s stored but not yet audited: %w", p.Event, r.ID, err)
	}
	return nil
}

// Get returns the tenant id. Errors: ErrNotFound, or the store's.
func (s *Store) Get(ctx context.Context, id string) (Record, error) {
	reg, _, err := s.load(ctx)
	if err != nil {
		return Record{}, err
	}
	r, ok := reg.Tenants[id]
	if !ok {
		return Record{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return r, nil
}

// List returns every tenant, by id. Errors: the store's.
func (s *Store) List(ctx context.Context) ([]Record, error) {
	reg, _, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	return sorted(reg), nil
}

func sorted(reg registry) []Record {
	out := make([]Record, 0, len(reg.Tenants))
	for _, r := range reg.Tenants {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Record) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Create stores a new active tenant (Managed defaults to store), version
// 1. Errors: ErrInvalid (*ValidationError), ErrExists, ErrHostConflict
// (*HostConflictError), the store's; an audit failure after the record
// is stored is returned with the record.
func (s *Store) Create(ctx context.Context, in Input, by authz.Subject) (Record, error) {
	return s.create(ctx, in, by, EventCreated, time.Time{})
}

// create stores in as a new record at time at (zero: the clock's).
func (s *Store) create(ctx context.Context, in Input, by authz.Subject, event string, at time.Time) (Record, error) {
	in, err := Validate(in)
	if err != nil {
		return Record{}, err
	}
	if in.Managed == "" {
		in.Managed = ManagedStore
	}
	reg, stored, err := s.swap(ctx, func(reg *registry) ([]string, error) {
		if err := s.createIn(reg, in, by, event, at); err != nil {
			return nil, err
		}
		return []string{in.ID}, nil
	})
	if !stored {
		return Record{}, err
	}
	return reg.Tenants[in.ID], err
}

// createIn adds the record of in (validated) to reg, with its pending
// audit record. Errors: ErrExists, ErrHostConflict, build's.
func (s *Store) createIn(reg *registry, in Input, by authz.Subject, event string, at time.Time) error {
	if _, dup := reg.Tenants[in.ID]; dup {
		return fmt.Errorf("%w: %q", ErrExists, in.ID)
	}
	if err := hostConflict(reg, in.ID, in.Hosts); err != nil {
		return err
	}
	now := s.clock(at)
	r, err := s.build(nil, in)
	if err != nil {
		return err
	}
	r.Status, r.Version, r.UpdatedBy, r.UpdatedAt = StatusActive, 1, actorName(by, event), now
	detail := FormatDiff(Diff(Record{}, r))
	if event == EventSeedCreated {
		detail = "seeded from file: " + detail
	}
	r.PendingAudit = &PendingAudit{Event: event, Time: now, Actor: by, Detail: detail}
	reg.Tenants[in.ID] = r
	return nil
}

func (s *Store) clock(at time.Time) time.Time {
	if at.IsZero() {
		at = s.now()
	}
	return at.UTC()
}

func actorName(by authz.Subject, event string) string {
	if event == EventSeedCreated || event == EventSeedUpdated {
		return SeedActor
	}
	return by.User
}

func hostConflict(reg *registry, id string, hosts []string) error {
	for _, other := range sorted(*reg) {
		if other.ID == id {
			continue
		}
		for _, h := range hosts {
			if slices.Contains(other.Hosts, h) {
				return &HostConflictError{Host: h, Tenant: id, Other: other.ID}
			}
		}
	}
	return nil
}

// Update replaces the settings of tenant in.ID with in if the record is
// still at version (compare-and-swap); status is kept, Managed kept when
// in.Managed is empty. An input equal to the record stores nothing and
// returns the record. Errors: ErrInvalid, ErrNotFound, ErrConflict
// (*VersionConflictError with the current version), ErrHostConflict, the
// store's.
func (s *Store) Update(ctx context.Context, in Input, version int64, by authz.Subject) (Record, error) {
	in, err := Validate(in)
	if err != nil {
		return Record{}, err
	}
	return s.modify(ctx, in.ID, version, by, EventUpdated, "", time.Time{}, func(cur Record) (Record, error) {
		return s.build(&cur, in)
	})
}

// Suspend marks tenant id suspended (its console and partner API refuse
// service once the gateway applies it). Suspending a suspended tenant
// stores nothing. Errors: ErrNotFound, the store's.
func (s *Store) Suspend(ctx context.Context, id, reason string, by authz.Subject) (Record, error) {
	return s.setStatus(ctx, id, StatusSuspended, EventSuspended, reason, by)
}

// Resume marks tenant id active again. Errors: ErrNotFound, the store's.
func (s *Store) Resume(ctx context.Context, id string, by authz.Subject) (Record, error) {
	return s.setStatus(ctx, id, StatusActive, EventResumed, "", by)
}

func (s *Store) setStatus(ctx context.Context, id, status, event, reason string, by authz.Subject) (Record, error) {
	return s.modify(ctx, id, 0, by, event, reason, time.Time{}, func(cur Record) (Record, error) {
		cur.Status = status
		return cur, nil
	})
}

// modify is the read-change-write of one record at time at (zero: the
// clock's); version 0 means any.
func (s *Store) modify(ctx context.Context, id string, version int64, by authz.Subject, event, reason string, at time.Time,
	change func(cur Record) (Record, error)) (Record, error) {
	var cur Record
	reg, stored, err := s.swap(ctx, func(reg *registry) ([]string, error) {
		var changed bool
		var err error
		cur, changed, err = s.modifyIn(reg, id, version, by, event, reason, at, change)
		if err != nil || !changed {
			return nil, err
		}
		return []string{id}, nil
	})
	switch {
	case stored:
		return reg.Tenants[id], err
	case err != nil:
		return Record{}, err
	}
	return cur, nil // nothing to change
}

// modifyIn applies change to reg's record id (at version, 0: any) with
// its pending audit record; changed is false when change changed nothing.
// cur is the record before. Errors: ErrNotFound, *VersionConflictError,
// ErrHostConflict, change's.
func (s *Store) modifyIn(reg *registry, id string, version int64, by authz.Subject, event, reason string, at time.Time,
	change func(cur Record) (Record, error)) (cur Record, changed bool, err error) {
	cur, ok := reg.Tenants[id]
	if !ok {
		return cur, false, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if version != 0 && cur.Version != version {
		return cur, false, &VersionConflictError{Tenant: id, Want: version, Current: cur.Version}
	}
	next, err := change(cur.Clone())
	if err != nil {
		return cur, false, err
	}
	if err := hostConflict(reg, id, next.Hosts); err != nil {
		return cur, false, err
	}
	changes := Diff(cur, next)
	if len(changes) == 0 {
		return cur, false, nil
	}
	now := s.clock(at)
	next.Version, next.UpdatedBy, next.UpdatedAt = cur.Version+1, actorName(by, event), now
	detail := FormatDiff(changes)
	if event == EventSeedUpdated {
		detail = "seeded from file: " + detail
	}
	next.PendingAudit = &PendingAudit{Event: event, Time: now, Actor: by, Reason: reason, Detail: detail}
	reg.Tenants[id] = next
	return cur, true, nil
}

// build makes the record for in (validated), keeping cur's status and
// version fields and its sealed secrets where in leaves them alone or
// repeats them.
func (s *Store) build(cur *Record, in Input) (Record, error) {
	var r Record
	if cur != nil {
		r = cur.Clone()
	}
	r.ID, r.Name, r.Hosts, r.Upstream = in.ID, in.Name, slices.Clone(in.Hosts), in.Upstream
	r.XAccountType, r.Risk, r.Association = in.XAccountType, in.Risk, in.Association
	if in.Managed != "" {
		r.Managed = in.Managed
	}
	var oldToken []byte
	if cur != nil {
		oldToken = cur.Provisioner.TokenSealed
	}
	tok, err := s.reseal(in.ID, FieldProvisionerToken, oldToken, in.Provisioner.Token)
	if err != nil {
		return Record{}, err
	}
	r.Provisioner = Provisioner{Kind: in.Provisioner.Kind, URL: in.Provisioner.URL, TokenSealed: tok}
	if in.SignIn == nil {
		r.SignIn = nil
		return r, nil
	}
	var oldSecret []byte
	if cur != nil && cur.SignIn != nil {
		oldSecret = cur.SignIn.ClientSecretSealed
	}
	sec, err := s.reseal(in.ID, FieldClientSecret, oldSecret, in.SignIn.ClientSecret)
	if err != nil {
		return Record{}, err
	}
	r.SignIn = &SignIn{Issuer: in.SignIn.Issuer, ClientID: in.SignIn.ClientID, ClientSecretSealed: sec,
		Scopes: slices.Clone(in.SignIn.Scopes), AccountClaim: in.SignIn.AccountClaim}
	return r, nil
}

// reseal returns the sealed value of a secret field: old when plain is
// nil or opens to plain already, none for "", else plain newly sealed. An
// old value that no longer opens is replaced when plain is given.
func (s *Store) reseal(tenant, field string, old []byte, plain *string) ([]byte, error) {
	switch {
	case plain == nil:
		return slices.Clone(old), nil
	case *plain == "":
		return nil, nil
	}
	if len(old) > 0 {
		if p, err := s.sealer.Open(tenant, field, old); err == nil && string(p) == *plain {
			return slices.Clone(old), nil
		}
	}
	return s.sealer.Seal(tenant, field, []byte(*plain)), nil
}
