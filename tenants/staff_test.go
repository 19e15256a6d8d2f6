package tenants_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants"
)

// countingStore counts the store's Gets and Puts and fails them while
// failing is set.
type countingStore struct {
	objstore.Store
	gets, puts atomic.Int32
	failing    atomic.Bool
}

var errStoreDown = errors.New("store down")

func (s *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	s.gets.Add(1)
	if s.failing.Load() {
		return nil, objstore.Object{}, errStoreDown
	}
	return s.Store.Get(ctx, key)
}

func (s *countingStore) Put(ctx context.Context, key string, r io.Reader, size int64, o objstore.PutOptions) (objstore.Object, error) {
	s.puts.Add(1)
	if s.failing.Load() {
		return objstore.Object{}, errStoreDown
	}
	return s.Store.Put(ctx, key, r, size, o)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func users(ms []tenants.StaffMember) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.User)
	}
	return out
}

// TestStaffDirectory: sign-ins are recorded per home tenant with roles,
// first and last seen; last seen is written at most once an hour (role or
// name changes at once); non-staff are not recorded; tenants are apart.
func TestStaffDirectory(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := &countingStore{Store: mk(t).store}
			d := tenants.NewStaffDirectory(st, nil)
			clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			tenants.SetStaffNow(d, clk.Now)
			t0 := clk.Now()

			pa := authz.Subject{User: "pa-1", Roles: []string{authz.RolePartnerAdmin, "wiki"}, Tenant: "acme"}
			cm := authz.Subject{User: "cm-1", Roles: []string{authz.RoleCustomerManager}, Tenant: "acme"}
			gx := authz.Subject{User: "cm-g", Roles: []string{authz.RoleCustomerManager}, Tenant: "globex"}
			op := authz.Subject{User: "op-1", Roles: []string{authz.RoleOperator}}
			for _, s := range []authz.Subject{pa, cm, gx, op} {
				if err := d.Record(ctx, s, "Name of "+s.User); err != nil {
					t.Fatal(err)
				}
			}
			// Not recorded: no staff role, a home tenant that is no tenant id.
			for _, s := range []authz.Subject{
				{User: "cust", Roles: []string{authz.RoleCustomer}, Tenant: "acme"},
				{User: "x", Roles: []string{"wiki"}, Tenant: "acme"},
				{User: "y", Roles: []string{authz.RoleCustomerManager}, Tenant: "../acme"},
			} {
				if err := d.Record(ctx, s, ""); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Record(ctx, authz.Subject{Roles: []string{authz.RoleOperator}}, ""); !errors.Is(err, tenants.ErrInvalid) {
				t.Fatalf("empty user: %v", err)
			}
			acme, err := d.List(ctx, "acme")
			if err != nil || !slices.Equal(users(acme), []string{"cm-1", "pa-1"}) {
				t.Fatalf("acme staff %v %v", users(acme), err)
			}
			if m := acme[1]; !slices.Equal(m.Roles, []string{authz.RolePartnerAdmin}) || m.Name != "Name of pa-1" ||
				m.Tenant != "acme" || !m.FirstSeen.Equal(t0) || !m.LastSeen.Equal(t0) {
				t.Fatalf("pa-1 recorded as %+v", m)
			}
			if g, err := d.List(ctx, "globex"); err != nil || !slices.Equal(users(g), []string{"cm-g"}) {
				t.Fatalf("globex staff %v %v", users(g), err)
			}
			if ops, err := d.List(ctx, ""); err != nil || !slices.Equal(users(ops), []string{"op-1"}) {
				t.Fatalf("operators %v %v", users(ops), err)
			}
			if l, err := d.List(ctx, "nobody-here"); err != nil || len(l) != 0 || l == nil {
				t.Fatalf("empty tenant: %v %v", l, err)
			}
			// Tenant isolation: globex's manager is not acme staff.
			if _, err := d.Get(ctx, "acme", "cm-g"); !errors.Is(err, tenants.ErrUnknownStaff) {
				t.Fatalf("Get cm-g in acme: %v", err)
			}
			if m, err := d.Get(ctx, "globex", "cm-g"); err != nil || m.User != "cm-g" {
				t.Fatalf("Get cm-g in globex: %+v %v", m, err)
			}
			if u, err := d.Unknown(ctx, "acme", []string{"cm-1", "cm-g", "ghost"}); err != nil || !slices.Equal(u, []string{"cm-g", "ghost"}) {
				t.Fatalf("Unknown: %v %v", u, err)
			}

			// Within the hour: no store call at all, LastSeen unchanged.
			gets, puts := st.gets.Load(), st.puts.Load()
			clk.Add(59 * time.Minute)
			if err := d.Record(ctx, pa, "Name of pa-1"); err != nil {
				t.Fatal(err)
			}
			if st.gets.Load() != gets || st.puts.Load() != puts {
				t.Fatalf("a sign-in within the hour touched the store: gets %d→%d puts %d→%d", gets, st.gets.Load(), puts, st.puts.Load())
			}
			// Another instance (a fresh directory) reads but does not write.
			other := tenants.NewStaffDirectory(st, nil)
			tenants.SetStaffNow(other, clk.Now)
			if err := other.Record(ctx, pa, "Name of pa-1"); err != nil {
				t.Fatal(err)
			}
			if st.puts.Load() != puts {
				t.Fatal("another instance rewrote a member seen within the hour")
			}
			// A role change is written at once.
			pa.Roles = []string{authz.RolePartnerAdmin, authz.RoleCustomerManager}
			if err := d.Record(ctx, pa, "Name of pa-1"); err != nil {
				t.Fatal(err)
			}
			if m, _ := d.Get(ctx, "acme", "pa-1"); !slices.Equal(m.Roles, []string{authz.RolePartnerAdmin, authz.RoleCustomerManager}) ||
				!m.LastSeen.Equal(clk.Now()) || !m.FirstSeen.Equal(t0) {
				t.Fatalf("after role change: %+v", m)
			}
			// After the hour: LastSeen moves, FirstSeen stays.
			clk.Add(61 * time.Minute)
			if err := d.Record(ctx, cm, "Carol"); err != nil {
				t.Fatal(err)
			}
			if m, _ := d.Get(ctx, "acme", "cm-1"); !m.LastSeen.Equal(clk.Now()) || !m.FirstSeen.Equal(t0) || m.Name != "Carol" {
				t.Fatalf("after an hour: %+v", m)
			}

			// A store failure is returned (ErrUnavailable), then not retried
			// for a minute, then retried.
			st.failing.Store(true)
			clk.Add(2 * time.Hour)
			if err := d.Record(ctx, cm, "Carol"); !errors.Is(err, tenants.ErrUnavailable) {
				t.Fatalf("store down: %v", err)
			}
			gets = st.gets.Load()
			if err := d.Record(ctx, cm, "Carol"); err != nil || st.gets.Load() != gets {
				t.Fatalf("retried at once: %v, gets %d→%d", err, gets, st.gets.Load())
			}
			st.failing.Store(false)
			clk.Add(time.Minute)
			if err := d.Record(ctx, cm, "Carol"); err != nil {
				t.Fatal(err)
			}
			if m, _ := d.Get(ctx, "acme", "cm-1"); !m.LastSeen.Equal(clk.Now()) {
				t.Fatalf("not recorded after the store came back: %+v", m)
			}
		})
	}
}

// TestStaffDirectoryConcurrent: concurrent first sign-ins of many members
// (several instances) all land in the one document.
func TestStaffDirectoryConcurrent(t *testing.T) {
	st, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := tenants.NewStaffDirectory(st, nil)
			s := authz.Subject{User: string(rune('a' + i)), Roles: []string{authz.RoleCustomerManager}, Tenant: "acme"}
			if err := d.Record(context.Background(), s, ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	l, err := tenants.NewStaffDirectory(st, nil).List(context.Background(), "acme")
	if err != nil || len(l) != 12 {
		t.Fatalf("%d members %v", len(l), err)
	}
}
