package audit

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/internal/objstore"
)

// Filter selects records. Zero fields select everything: Action is an
// exact event name ("branding.approve"), Actor an exact Actor.User, and
// [Since, Until) a time window (Since inclusive, Until exclusive; either
// may be zero).
type Filter struct {
	Action string
	Actor  string
	Since  time.Time
	Until  time.Time
}

// Match reports whether r is selected by f.
func (f Filter) Match(r Record) bool {
	switch {
	case f.Action != "" && r.Event != f.Action,
		f.Actor != "" && r.Actor.User != f.Actor,
		!f.Since.IsZero() && r.Time.Before(f.Since),
		!f.Until.IsZero() && !r.Time.Before(f.Until):
		return false
	}
	return true
}

// Pager lists a tenant's records newest first, a page at a time.
type Pager interface {
	// Page returns up to limit records of tenant matching f, newest
	// first, strictly older (in key order) than the record named before
	// ("" starts at the newest). next names the last record examined when
	// more may follow ("" at the end); pass it as before for the next
	// page. A page may hold fewer than limit records while next is not
	// "" (the per-page scan budget, ScanBudget, ran out). Errors:
	// ErrInvalid (wrapped) for a malformed tenant id, a non-positive
	// limit or a before that is not a record name; else the backend's.
	Page(ctx context.Context, tenant string, f Filter, before string, limit int) (recs []Record, next string, err error)
}

var _ Pager = (*Log)(nil)

// ScanBudget bounds how many records one Page reads to fill a page when
// the filter cannot be decided from object names alone (Actor): past it
// the page ends early with a next cursor.
const ScanBudget = 500

// timeLayout is the time at the start of a record's object name.
const timeLayout = ids.TimeLayout

// nameRe is a record's object name within its stream.
var nameRe = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{9}Z-[a-z0-9][a-z0-9._-]{0,63}-[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.json$`)

// ValidName reports whether name can be a record's object name within its
// stream (the form Page's before and next take).
func ValidName(name string) bool { return nameRe.MatchString(name) }

// Page implements Pager. Listing the stream's names is one List of its
// prefix; records are read only for names the action and time filters
// (decided from the name) let through, at most ScanBudget per page.
func (l *Log) Page(ctx context.Context, tenant string, f Filter, before string, limit int) ([]Record, string, error) {
	switch {
	case !tenantRe.MatchString(tenant):
		return nil, "", fmt.Errorf("%w: tenant %q", ErrInvalid, tenant)
	case limit < 1:
		return nil, "", fmt.Errorf("%w: limit %d", ErrInvalid, limit)
	case before != "" && !ValidName(before):
		return nil, "", fmt.Errorf("%w: record name %q", ErrInvalid, before)
	}
	prefix := l.prefix(tenant)
	objs, err := l.store.List(ctx, prefix)
	if err != nil {
		return nil, "", fmt.Errorf("audit: list %s: %w", l.stream, err)
	}
	names := make([]string, 0, len(objs))
	for _, o := range objs {
		if n := strings.TrimPrefix(o.Key, prefix); ValidName(n) {
			names = append(names, n)
		}
	}
	// Names sort oldest first; start just below before.
	i := len(names)
	if before != "" {
		i = sort.SearchStrings(names, before)
	}
	var out []Record
	read := 0
	for i--; i >= 0; i-- {
		n := names[i]
		at, err := time.Parse(timeLayout, n[:len(timeLayout)])
		if err != nil {
			continue
		}
		if !f.Since.IsZero() && at.Before(f.Since) {
			break // every older name is outside the window too
		}
		if !f.Until.IsZero() && !at.Before(f.Until) {
			continue
		}
		if f.Action != "" && !strings.HasPrefix(n[len(timeLayout)+1:], f.Action+"-") {
			continue
		}
		if read >= ScanBudget || len(out) == limit {
			return out, names[i+1], nil
		}
		read++
		r, _, err := objstore.GetJSON[Record](ctx, l.store, prefix+n)
		if err != nil {
			return nil, "", fmt.Errorf("audit: read %s: %w", l.stream, err)
		}
		if f.Match(r) {
			out = append(out, r)
		}
	}
	return out, "", nil
}
