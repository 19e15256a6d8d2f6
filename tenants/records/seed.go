package records

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/livery/livery/authz"
)

// Seed actions, one per tenant of the file (and store-only for the
// store's records the file does not mention).
const (
	SeedCreated   = "created"    // absent from the store: created from the file
	SeedUpdated   = "updated"    // managed: file, and the file differed: overwritten
	SeedUnchanged = "unchanged"  // managed: file, and the store already agrees
	SeedKept      = "kept"       // managed: store: left as the store has it
	SeedStoreOnly = "store-only" // in the store only (created at runtime): left alone
	SeedFailed    = "failed"     // invalid in the file, or its write failed: see Err
)

// SeedEntry is what Seed did with one tenant. Fields are the changed
// fields (updated), or where the file differs from the store (kept).
type SeedEntry struct {
	ID     string
	Action string
	Fields []string
	Err    error
}

// SeedReport is what Seed did, the file's tenants in file order, then the
// store-only ones by id.
type SeedReport struct {
	Entries []SeedEntry
	// Planned: made by Plan, nothing done yet (Lines says "will be").
	Planned bool
}

// IDs returns the ids with the given action.
func (r SeedReport) IDs(action string) []string {
	var out []string
	for _, e := range r.Entries {
		if e.Action == action {
			out = append(out, e.ID)
		}
	}
	return out
}

// Lines explains the report, one line per tenant, for check-config.
func (r SeedReport) Lines() []string {
	out := make([]string, 0, len(r.Entries))
	for _, e := range r.Entries {
		var l string
		switch e.Action {
		case SeedCreated:
			l = "created from the file"
			if r.Planned {
				l = "will be created from the file"
			}
		case SeedUpdated:
			l = "managed: file — overwritten from the file (" + strings.Join(e.Fields, ", ") + ")"
			if r.Planned {
				l = "managed: file — will be overwritten from the file (" + strings.Join(e.Fields, ", ") + ")"
			}
		case SeedUnchanged:
			l = "managed: file — the store agrees with the file"
		case SeedKept:
			l = "managed: store — kept as stored"
			if len(e.Fields) > 0 {
				l += "; the file differs in " + strings.Join(e.Fields, ", ") + " (edit it at runtime, or set managed: file)"
			}
		case SeedStoreOnly:
			l = "not in the file — kept as stored"
		case SeedFailed:
			l = fmt.Sprintf("failed: %v", e.Err)
			if r.Planned {
				l = fmt.Sprintf("will fail: %v", e.Err)
			}
		}
		out = append(out, "tenant "+e.ID+": "+l)
	}
	return out
}

// Seed reconciles the store with the configuration file's tenants at
// start, at time now. The rule when both have a tenant: the record's
// Managed mark decides — ManagedFile records are overwritten from the
// file (status, version history and secrets the file does not give are
// kept; audited as "seeded from file" with the changed fields),
// ManagedStore records are kept as stored. Tenants absent from the store
// are created (Managed from the file's entry, default ManagedFile, since
// the file is where they live today); records the file does not mention
// are left alone. Before anything, audit records that a crash left
// pending are written.
//
// Seed carries on past a failing tenant and returns the report with every
// tenant and an error joining the failures (ErrInvalid, ErrHostConflict,
// the store's).
func (s *Store) Seed(ctx context.Context, specs []Input, now time.Time) (SeedReport, error) {
	var rep SeedReport
	reg, _, err := s.load(ctx)
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, r := range sorted(reg) {
		if err := s.flush(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	// One pass: every file tenant is applied to the registry in memory and
	// the registry is written once (compare-and-swap; a conflict re-runs
	// the pass on the new registry), so start-up costs one read and at
	// most one write however many tenants the file has.
	entries := make([]SeedEntry, len(specs))
	valid := make([]Input, len(specs))
	invalid := make([]bool, len(specs))
	for i, in := range specs {
		entries[i] = SeedEntry{ID: in.ID}
		if valid[i], err = Validate(in); err != nil {
			entries[i].Action, entries[i].Err, invalid[i] = SeedFailed, err, true
		}
	}
	after, _, err := s.swap(ctx, func(reg *registry) ([]string, error) {
		var ids []string
		for i := range specs {
			if invalid[i] {
				continue // failed before the pass
			}
			entries[i] = s.seedInto(reg, valid[i], now)
			if entries[i].Action == SeedCreated || entries[i].Action == SeedUpdated {
				ids = append(ids, valid[i].ID)
			}
		}
		return ids, nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if after.Tenants != nil {
		reg = after
	}
	inFile := map[string]bool{}
	for i, in := range specs {
		inFile[in.ID] = true
		if entries[i].Err != nil {
			errs = append(errs, entries[i].Err)
		}
		rep.Entries = append(rep.Entries, entries[i])
	}
	for _, r := range sorted(reg) {
		if !inFile[r.ID] {
			rep.Entries = append(rep.Entries, SeedEntry{ID: r.ID, Action: SeedStoreOnly})
		}
	}
	return rep, errors.Join(errs...)
}

// seedInto applies one file tenant (validated) to reg in memory: created
// when missing, overwritten when ManagedFile, reported as kept when
// ManagedStore. A failure (ErrHostConflict, build's) leaves reg as it was
// for that tenant and is the entry's Err.
func (s *Store) seedInto(reg *registry, in Input, now time.Time) SeedEntry {
	e := SeedEntry{ID: in.ID}
	fail := func(err error) SeedEntry { e.Action, e.Err = SeedFailed, err; return e }
	cur, ok := reg.Tenants[in.ID]
	if !ok {
		if in.Managed == "" {
			in.Managed = ManagedFile
		}
		if err := s.createIn(reg, in, authz.Subject{}, EventSeedCreated, now); err != nil {
			return fail(err)
		}
		e.Action = SeedCreated
		return e
	}
	in.Managed = "" // the store's mark decides, and stays
	if cur.Managed != ManagedFile {
		next, err := s.build(&cur, in)
		if err != nil {
			return fail(err)
		}
		e.Action, e.Fields = SeedKept, Fields(Diff(cur, next))
		return e
	}
	var changes []Change
	_, changed, err := s.modifyIn(reg, in.ID, 0, authz.Subject{}, EventSeedUpdated, "", now, func(c Record) (Record, error) {
		next, err := s.build(&c, in)
		changes = Diff(c, next)
		return next, err
	})
	switch {
	case err != nil:
		return fail(err)
	case !changed:
		e.Action = SeedUnchanged
	default:
		e.Action, e.Fields = SeedUpdated, Fields(changes)
	}
	return e
}

// Plan is Seed without writing: what Seed would do with the store as it
// is now, for check-config. Errors: the store's (reading the records);
// a tenant that would fail is in the report (SeedFailed with Err).
func (s *Store) Plan(ctx context.Context, specs []Input) (SeedReport, error) {
	rep := SeedReport{Planned: true}
	reg, _, err := s.load(ctx)
	if err != nil {
		return rep, err
	}
	// Seed's own pass, on this copy of the registry, never written.
	inFile := map[string]bool{}
	for _, in := range specs {
		inFile[in.ID] = true
		e := SeedEntry{ID: in.ID}
		if valid, err := Validate(in); err != nil {
			e.Action, e.Err = SeedFailed, err
		} else {
			e = s.seedInto(&reg, valid, s.now())
		}
		rep.Entries = append(rep.Entries, e)
	}
	for _, r := range sorted(reg) {
		if !inFile[r.ID] {
			rep.Entries = append(rep.Entries, SeedEntry{ID: r.ID, Action: SeedStoreOnly})
		}
	}
	return rep, nil
}
