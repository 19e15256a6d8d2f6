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
//
// An Index answers Select in time that does not grow with the tenant for
// the single conditions of the partner API (docs/customer-index.md).
type Index interface {
	// Put adds or replaces an active customer, and every entry that finds
	// it, atomically.
	Put(ctx context.Context, c *Customer) error
	// Remove drops the tenant's customer of account name, and every entry
	// that finds it, atomically; a name it does not hold is no error.
	Remove(ctx context.Context, tenant, name string) error
	// Select answers sel: the matching customers of its window, in list
	// order, and how many match in all (ignoring After, Offset and Limit).
	// ok is false when the tenant's index has not been built (e.g. after a
	// Redis flush).
	Select(ctx context.Context, tenant string, sel Selection) (cs []Customer, total int, ok bool, err error)
	// Load returns every indexed customer of the tenant, for the searches
	// Select cannot answer (a staff search's q); ok as for Select.
	Load(ctx context.Context, tenant string) (cs []Customer, ok bool, err error)
	// Fill adds or replaces customers (removing none) and records
	// checkpoint, the last record key a rebuild has indexed, with count,
	// how many it indexed so far. With built, it marks the tenant's index
	// complete and forgets the checkpoint.
	Fill(ctx context.Context, tenant string, cs []Customer, checkpoint string, count int, built bool) error
	// Checkpoint returns what the last Fill of an unfinished rebuild
	// recorded ("" and 0 when there is none).
	Checkpoint(ctx context.Context, tenant string) (after string, count int, err error)
	// Lock takes or extends the tenant's rebuild lock for token, for ttl;
	// held is false while another token holds it. Unlock releases it if
	// token holds it.
	Lock(ctx context.Context, tenant, token string, ttl time.Duration) (held bool, err error)
	Unlock(ctx context.Context, tenant, token string) error
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
// missing (once for all concurrent queries and instances: rebuild).
// Results are ordered newest association first, then by name; count is
// how many match in all. Errors: ErrUnavailable when Redis or the store
// fails.
func (s *Customers) List(ctx context.Context, tenant string, q Query) ([]Customer, int, error) {
	return s.selectCustomers(ctx, tenant, q.selection())
}

// selectCustomers answers sel from the index, building the index first
// when it is missing. Errors: ErrUnavailable.
func (s *Customers) selectCustomers(ctx context.Context, tenant string, sel Selection) ([]Customer, int, error) {
	for attempt := 0; ; attempt++ {
		ictx, cancel := context.WithTimeout(ctx, indexCallTimeout)
		cs, total, ok, err := s.o.Index.Select(ictx, tenant, sel)
		cancel()
		switch {
		case err != nil:
			return nil, 0, unavailable("query index", err)
		case ok:
			if cs == nil {
				cs = []Customer{}
			}
			return cs, total, nil
		case attempt > 0:
			return nil, 0, unavailable("query index", errors.New("index not built after its rebuild"))
		}
		if err := s.rebuild(ctx, tenant); err != nil {
			return nil, 0, err
		}
	}
}

// matching returns the tenant's indexed customers for which match is true,
// in list order, loading the whole index (only the staff search's q, which
// Select cannot answer, comes here). Errors: ErrUnavailable.
func (s *Customers) matching(ctx context.Context, tenant string, match func(*Customer) bool) ([]Customer, error) {
	for attempt := 0; ; attempt++ {
		lctx, cancel := context.WithTimeout(ctx, loadTimeout)
		all, ok, err := s.o.Index.Load(lctx, tenant)
		cancel()
		switch {
		case err != nil:
			return nil, unavailable("load index", err)
		case !ok && attempt > 0:
			return nil, unavailable("load index", errors.New("index not built after its rebuild"))
		case !ok:
			if err := s.rebuild(ctx, tenant); err != nil {
				return nil, err
			}
			continue
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
}

// loadTimeout bounds one whole-index load (Load).
const loadTimeout = 10 * time.Second

// listBefore is the list order: newest association first, then by account
// name (unique), so it is a total order and a key for cursors.
func listBefore(a, b *Customer) bool { return ListBefore(PositionOf(a), PositionOf(b)) }

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
