package tenants

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// Index is the rebuildable query index of customers (in production Redis:
// tenants/redisindex). It holds nothing the object store does not: when it
// is lost it is rebuilt (Reindex). Any error of an Index is a failure of its
// backend; Customers reports it as ErrUnavailable, or queues a repair.
type Index interface {
	// Put adds or replaces an active customer.
	Put(ctx context.Context, c *Customer) error
	// Load returns the tenant's indexed customers; ok is false when the
	// index for the tenant has not been built (e.g. after a Redis flush).
	Load(ctx context.Context, tenant string) (cs []Customer, ok bool, err error)
	// Fill adds customers (removing none) and marks the tenant's index as
	// built.
	Fill(ctx context.Context, tenant string, cs []Customer) error
}

// Reindex rebuilds the tenant's index from the object store (`livery
// reindex`) and returns the number of active customers indexed. Errors:
// ErrUnavailable when the store or the index fails.
func (s *Customers) Reindex(ctx context.Context, tenant string) (int, error) {
	return s.ReindexProgress(ctx, tenant, nil)
}

// ReindexProgress is Reindex telling progress, when not nil, after each
// customer record read: read of total records (total counts records that
// are not active too; those are not indexed). progress runs on the
// calling goroutine and must return quickly. Errors: as Reindex.
func (s *Customers) ReindexProgress(ctx context.Context, tenant string, progress func(read, total int)) (int, error) {
	objs, err := s.o.Store.List(ctx, customersPrefix(tenant))
	if err != nil {
		return 0, unavailable("list customers", err)
	}
	var cs []Customer
	for i, o := range objs {
		if progress != nil && i > 0 {
			progress(i, len(objs))
		}
		c, _, err := objstore.GetJSON[Customer](ctx, s.o.Store, o.Key)
		if errors.Is(err, objstore.ErrNotFound) {
			continue // rolled back meanwhile
		}
		if err != nil {
			return 0, unavailable("read customer", err)
		}
		if c.State == StateActive {
			cs = append(cs, c)
		}
	}
	if progress != nil {
		progress(len(objs), len(objs))
	}
	if err := s.o.Index.Fill(ctx, tenant, cs); err != nil {
		return 0, unavailable("fill index", err)
	}
	return len(cs), nil
}

// Query filters a partner's customer list. Zero values mean "any".
type Query struct {
	AccountName       string // substring, case-insensitive
	Customer          string // substring of the customer's display name (the account name)
	AssociationType   string
	AssociatedOnBegin time.Time
	AssociatedOnEnd   time.Time
	CustomerID        string
	Label             string
	IndirectPartnerID string
	Managers          []string // when set, only customers managed by one of them
	Offset, Limit     int
}

// List answers a query from the index, rebuilding it first when it is
// missing. Results are ordered newest association first, then by name.
// Errors: ErrUnavailable when Redis or the store fails.
func (s *Customers) List(ctx context.Context, tenant string, q Query) ([]Customer, int, error) {
	hits, err := s.matching(ctx, tenant, q.matches)
	if err != nil {
		return nil, 0, err
	}
	count := len(hits)
	if q.Offset >= len(hits) {
		return []Customer{}, count, nil
	}
	hits = hits[q.Offset:]
	if q.Limit > 0 && len(hits) > q.Limit {
		hits = hits[:q.Limit]
	}
	return hits, count, nil
}

// matching returns the tenant's indexed customers for which match is true,
// in list order (newest association first, then by name), rebuilding the
// index first when it is missing. Errors: ErrUnavailable.
func (s *Customers) matching(ctx context.Context, tenant string, match func(*Customer) bool) ([]Customer, error) {
	all, ok, err := s.o.Index.Load(ctx, tenant)
	if err != nil {
		return nil, unavailable("load index", err)
	}
	if !ok {
		if _, err := s.Reindex(ctx, tenant); err != nil {
			return nil, err
		}
		if all, _, err = s.o.Index.Load(ctx, tenant); err != nil {
			return nil, unavailable("load index", err)
		}
	}
	var hits []Customer
	for _, c := range all {
		if c.Tenant == tenant && match(&c) {
			hits = append(hits, c)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return listBefore(&hits[i], &hits[j]) })
	return hits, nil
}

// listBefore is the list order: newest association first, then by account
// name (unique), so it is a total order and a key for cursors.
func listBefore(a, b *Customer) bool {
	if !a.AssociatedOn.Equal(b.AssociatedOn) {
		return a.AssociatedOn.After(b.AssociatedOn)
	}
	return a.DomainName < b.DomainName
}

func (q *Query) matches(c *Customer) bool {
	contains := func(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }
	switch {
	case q.AccountName != "" && !contains(c.DomainName, q.AccountName),
		q.Customer != "" && !contains(c.DomainName, q.Customer),
		q.AssociationType != "" && c.AssociationType != q.AssociationType,
		!q.AssociatedOnBegin.IsZero() && c.AssociatedOn.Before(q.AssociatedOnBegin),
		!q.AssociatedOnEnd.IsZero() && c.AssociatedOn.After(q.AssociatedOnEnd),
		q.CustomerID != "" && c.DomainID != q.CustomerID,
		q.Label != "" && c.Label != q.Label,
		q.IndirectPartnerID != "" && c.IndirectPartnerID != q.IndirectPartnerID:
		return false
	}
	if len(q.Managers) > 0 {
		for _, m := range q.Managers {
			for _, cm := range c.Managers {
				if m == cm {
					return true
				}
			}
		}
		return false
	}
	return true
}

// Identity is the answer of CheckIdentity.
type Identity struct {
	Used bool
	// PhoneRemaining is how many more accounts the phone may register
	// (mobile searches only).
	PhoneRemaining *int
}

// CheckIdentity reports whether an account name, mobile number or email is
// already in use. searchType is "name", "mobile" or "email"; a malformed
// value yields a *FieldError. Errors: ErrUnavailable on store failure.
func (s *Customers) CheckIdentity(ctx context.Context, searchType, value string) (Identity, error) {
	switch searchType {
	case "name":
		if err := ValidateDomainName(value); err != nil {
			return Identity{}, &FieldError{Field: "search_value", Reason: err.(*FieldError).Reason, Kind: ErrNameFormat}
		}
		_, err := s.o.Store.Stat(ctx, nameKey(value))
		if err != nil && !errors.Is(err, objstore.ErrNotFound) {
			return Identity{}, unavailable("stat name", err)
		}
		return Identity{Used: err == nil}, nil
	case "mobile":
		phone, err := NormalizePhone(value)
		if err != nil {
			return Identity{}, &FieldError{Field: "search_value", Reason: err.(*FieldError).Reason, Kind: ErrPhoneFormat}
		}
		used := 0
		for i := 0; i < s.o.PhoneLimit; i++ {
			_, err := s.o.Store.Stat(ctx, phoneSlotKey(phone, i))
			if err == nil {
				used++
			} else if !errors.Is(err, objstore.ErrNotFound) {
				return Identity{}, unavailable("stat phone", err)
			}
		}
		remain := s.o.PhoneLimit - used
		return Identity{Used: used > 0, PhoneRemaining: &remain}, nil
	case "email":
		// Registrations through the partner API carry no email, so none is
		// ever taken here; the format is still checked.
		if !strings.Contains(value, "@") || checkText("search_value", value, 64, true) != nil {
			return Identity{}, invalid("search_value", "must be an email address")
		}
		return Identity{}, nil
	}
	return Identity{}, invalid("search_type", `must be "email", "mobile" or "name"`)
}
