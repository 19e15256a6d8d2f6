package delegation

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Get returns grant id of tenant. A request that never became pending (a
// crash or a lost race between storing it and its pointer) is
// ErrNotFound. Cost: one read (two for a requested grant). Errors:
// ErrNotFound (also for a malformed id), ErrInvalidArgument, a store
// error.
func (s *Service) Get(ctx context.Context, tenant, id string) (Grant, error) {
	if err := checkIDs(tenant, ""); err != nil {
		return Grant{}, err
	}
	g, found, err := s.grant(ctx, tenant, id)
	if err != nil {
		return Grant{}, err
	}
	if found && g.State == StateRequested {
		p, _, err := s.pointer(ctx, pendingKey(tenant, g.Customer))
		if err != nil {
			return Grant{}, err
		}
		found = p.GrantID == id
	}
	if !found {
		return Grant{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return g, nil
}

// ActiveGrant returns the customer's active grant at the service's
// clock; found is false when it has none. It is read-only (an ended grant
// is reported as not found, and recorded as ended by the next mutating
// call or Reminders) and also finds a grant whose approval was
// interrupted before the active pointer was set. Cost: two or three
// reads. Errors: ErrInvalidArgument, a store error.
func (s *Service) ActiveGrant(ctx context.Context, tenant, customer string) (g Grant, found bool, err error) {
	if err := checkIDs(tenant, customer); err != nil {
		return Grant{}, false, err
	}
	if customer == "" {
		return Grant{}, false, fmt.Errorf("%w: customer id required", ErrInvalidArgument)
	}
	now := s.clock()
	for _, key := range []string{activeKey(tenant, customer), pendingKey(tenant, customer)} {
		p, _, err := s.pointer(ctx, key)
		if err != nil || p.GrantID == "" {
			if err != nil {
				return Grant{}, false, err
			}
			continue
		}
		g, ok, err := s.grant(ctx, tenant, p.GrantID)
		if err != nil {
			return Grant{}, false, err
		}
		if ok && g.Customer == customer && g.Active(now) {
			return g, true, nil
		}
	}
	return Grant{}, false, nil
}

// Pending returns the customer's pending request at the service's clock;
// found is false when it has none (an expired request is not pending).
// Read-only; cost: two reads. Errors: as ActiveGrant's.
func (s *Service) Pending(ctx context.Context, tenant, customer string) (g Grant, found bool, err error) {
	if err := checkIDs(tenant, customer); err != nil {
		return Grant{}, false, err
	}
	p, _, err := s.pointer(ctx, pendingKey(tenant, customer))
	if err != nil || p.GrantID == "" {
		return Grant{}, false, err
	}
	g, ok, err := s.grant(ctx, tenant, p.GrantID)
	if err != nil || !ok || g.StateAt(s.clock()) != StateRequested {
		return Grant{}, false, err
	}
	return g, true, nil
}

// Query selects a tenant's grants. Zero fields select everything:
// Customer an exact customer id, State an effective state (StateAt the
// service's clock). Cursor is NextCursor of the previous page ("" = the
// newest); Limit defaults to DefaultLimit and is at most MaxLimit.
type Query struct {
	Customer string
	State    State
	Cursor   string
	Limit    int
}

// Page sizes.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// ScanBudget bounds the grants one page reads to fill itself when
	// State filters: past it the page ends early with a NextCursor.
	ScanBudget = 500
)

// GrantPage is one page of grants, newest first. NextCursor is "" at the
// end.
type GrantPage struct {
	Grants     []Grant `json:"grants"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// List returns a page of the tenant's grants, newest first (grant ids
// sort by request time). Requests that never became pending are not
// shown. Cost: one List of the tenant's grants (of the customer's index
// with Customer), then one read per grant examined (at most the page, or
// ScanBudget with State), plus one pointer read per customer with a
// requested grant on the page. Errors: ErrInvalidArgument (ids, an
// unknown State, a Limit above MaxLimit), ErrBadCursor, a store error.
func (s *Service) List(ctx context.Context, tenant string, q Query) (GrantPage, error) {
	if err := checkIDs(tenant, q.Customer); err != nil {
		return GrantPage{}, err
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxLimit:
		return GrantPage{}, fmt.Errorf("%w: limit %d (1-%d)", ErrInvalidArgument, q.Limit, MaxLimit)
	case q.Limit == 0:
		q.Limit = DefaultLimit
	}
	if q.State != "" && !slices.Contains(allStates, q.State) {
		return GrantPage{}, fmt.Errorf("%w: state %q", ErrInvalidArgument, q.State)
	}
	if q.Cursor != "" && !ValidGrantID(q.Cursor) {
		return GrantPage{}, ErrBadCursor
	}
	prefix := grantPrefix(tenant)
	if q.Customer != "" {
		prefix = customerPrefix(tenant, q.Customer)
	}
	objs, err := s.store.List(ctx, prefix)
	if err != nil {
		return GrantPage{}, fmt.Errorf("delegation: list grants: %w", err)
	}
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, prefix), ".json"); ok && ValidGrantID(id) &&
			(q.Cursor == "" || id < q.Cursor) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	page := GrantPage{Grants: []Grant{}}
	pending := map[string]string{} // customer → pending grant id
	now := s.clock()
	for i, id := range ids {
		if len(page.Grants) == q.Limit || i == ScanBudget {
			page.NextCursor = ids[i-1]
			break
		}
		g, ok, err := s.grant(ctx, tenant, id)
		if err != nil {
			return GrantPage{}, err
		}
		if !ok || (q.Customer != "" && g.Customer != q.Customer) {
			continue
		}
		if g.State == StateRequested {
			p, seen := pending[g.Customer]
			if !seen {
				ptr, _, err := s.pointer(ctx, pendingKey(tenant, g.Customer))
				if err != nil {
					return GrantPage{}, err
				}
				p, pending[g.Customer] = ptr.GrantID, ptr.GrantID
			}
			if p != id {
				continue // never became pending
			}
		}
		if q.State == "" || g.StateAt(now) == q.State {
			page.Grants = append(page.Grants, g)
		}
	}
	return page, nil
}

var allStates = []State{StateRequested, StateApproved, StateRejected, StateWithdrawn, StateRequestExpired, StateRevoked, StateExpired}

// ForCustomer returns every grant of one customer, newest first (the
// customer's "My partners": its pending request, active grant and
// history). Cost: one List of the customer's index and one read per
// grant. Errors: as List's.
func (s *Service) ForCustomer(ctx context.Context, tenant, customer string) ([]Grant, error) {
	if customer == "" {
		return nil, fmt.Errorf("%w: customer id required", ErrInvalidArgument)
	}
	var out []Grant
	q := Query{Customer: customer, Limit: MaxLimit}
	for {
		p, err := s.List(ctx, tenant, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Grants...)
		if p.NextCursor == "" {
			return out, nil
		}
		q.Cursor = p.NextCursor
	}
}
