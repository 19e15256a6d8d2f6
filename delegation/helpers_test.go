package delegation_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
)

// TestDelegation runs the store-backed suite against the directory driver
// and a real MinIO server (a bucket per test).
func TestDelegation(t *testing.T) {
	for _, b := range objstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			for _, c := range suite {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.fn(t, newEnv(t, b.Open(t)))
				})
			}
		})
	}
}

type testCase struct {
	name string
	fn   func(t *testing.T, e *env)
}

var suite = concat(stateTests, badInputTests, recoveryTests, queryTests, actionTests, reminderTests)

func concat(lists ...[]testCase) []testCase {
	var out []testCase
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

const (
	tenant   = "acme"
	resale   = "c-resale"
	resale2  = "c-resale2"
	referral = "c-referral"
)

var (
	admin    = authz.Subject{User: "pam", Roles: []string{authz.RolePartnerAdmin}, Tenant: tenant}
	manager  = authz.Subject{User: "carl", Roles: []string{authz.RoleCustomerManager}, Tenant: tenant}
	foreign  = authz.Subject{User: "gus", Roles: []string{authz.RolePartnerAdmin}, Tenant: "globex"}
	operator = authz.Subject{User: "olga", Roles: []string{authz.RoleOperator}}
	cust     = authz.Subject{User: "cindy", Roles: []string{authz.RoleCustomer}, Tenant: tenant, Customer: resale}
	cust2    = authz.Subject{User: "dora", Roles: []string{authz.RoleCustomer}, Tenant: tenant, Customer: resale2}
	// custElsewhere has the same customer id in another tenant.
	custElsewhere = authz.Subject{User: "eve", Roles: []string{authz.RoleCustomer}, Tenant: "globex", Customer: resale}
	delegatedSess = authz.Subject{User: "pam", Roles: []string{delegation.Role(delegation.ScopeResources)}, Tenant: tenant, Customer: resale}
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable clock that also moves a microsecond per reading, so
// every event has a distinct, ordered time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type notifier struct {
	mu  sync.Mutex
	ids []string
}

func (n *notifier) GrantChanged(_ context.Context, tenant, id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, tenant+"/"+id)
}

func (n *notifier) count(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, x := range n.ids {
		if strings.HasSuffix(x, "/"+id) {
			c++
		}
	}
	return c
}

type announcer struct {
	mu  sync.Mutex
	got []delegation.Announcement
}

func (a *announcer) Announce(_ context.Context, x delegation.Announcement) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, x)
}

func (a *announcer) kinds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, len(a.got))
	for i, x := range a.got {
		out[i] = x.Kind + ":" + x.Audience
	}
	return out
}

var errInjected = errors.New("injected store failure")

// faultStore fails chosen Puts (by key substring), to simulate a crash
// between steps.
type faultStore struct {
	objstore.Store
	mu      sync.Mutex
	failPut map[string]int
}

func (f *faultStore) failNextPuts(substr string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPut == nil {
		f.failPut = map[string]int{}
	}
	f.failPut[substr] = n
}

func (f *faultStore) Put(ctx context.Context, key string, r io.Reader, size int64, o objstore.PutOptions) (objstore.Object, error) {
	f.mu.Lock()
	for p, n := range f.failPut {
		if n > 0 && strings.Contains(key, p) {
			f.failPut[p] = n - 1
			f.mu.Unlock()
			return objstore.Object{}, errInjected
		}
	}
	f.mu.Unlock()
	return f.Store.Put(ctx, key, r, size, o)
}

// directory: two resale customers and a referral one in tenant acme.
var directory = delegation.DirectoryFunc(func(_ context.Context, tn, id string) (delegation.CustomerInfo, bool, error) {
	if tn != tenant {
		return delegation.CustomerInfo{}, false, nil
	}
	switch id {
	case resale:
		return delegation.CustomerInfo{Name: "Resale Co", AssociationType: "2"}, true, nil
	case resale2:
		return delegation.CustomerInfo{Name: "Resale Two", AssociationType: "2"}, true, nil
	case referral:
		return delegation.CustomerInfo{Name: "Referral Co", AssociationType: "1"}, true, nil
	}
	return delegation.CustomerInfo{}, false, nil
})

type env struct {
	raw   objstore.Store
	store *faultStore
	svc   *delegation.Service
	clock *clock
	notes *notifier
	told  *announcer
	ctx   context.Context
}

func newEnv(t *testing.T, st objstore.Store) *env {
	e := &env{raw: st, store: &faultStore{Store: st}, clock: &clock{t: t0}, notes: &notifier{}, told: &announcer{}, ctx: t.Context()}
	e.svc = e.service(e.store)
	if _, err := e.svc.AcceptAgreement(e.ctx, tenant, delegation.AgreementVersion, admin); err != nil {
		t.Fatalf("AcceptAgreement: %v", err)
	}
	return e
}

func (e *env) service(st objstore.Store) *delegation.Service {
	return delegation.New(st, directory, delegation.Options{Now: e.clock.Now, Notifier: e.notes, Announcer: e.told,
		Logger: slog.New(slog.DiscardHandler)})
}

func input(customer string, scopes ...delegation.Scope) delegation.RequestInput {
	if len(scopes) == 0 {
		scopes = []delegation.Scope{delegation.ScopeResources, delegation.ScopeFinanceRead}
	}
	return delegation.RequestInput{Customer: customer, Scopes: scopes, Duration: 30 * 24 * time.Hour, Reason: "迁移数据库 / migrate the database"}
}

func (e *env) request(t *testing.T, in delegation.RequestInput) delegation.Grant {
	t.Helper()
	g, err := e.svc.Request(e.ctx, tenant, in, manager)
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	return g
}

// active requests and approves a grant for resale.
func (e *env) active(t *testing.T) delegation.Grant {
	t.Helper()
	g := e.request(t, input(resale))
	a, err := e.svc.Approve(e.ctx, tenant, g.ID, cust)
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	return a
}

func (e *env) get(t *testing.T, id string) delegation.Grant {
	t.Helper()
	g, err := e.svc.Get(e.ctx, tenant, id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return g
}

func (e *env) events(t *testing.T, customer string) []string {
	t.Helper()
	recs, err := e.svc.Events(e.ctx, tenant, customer)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Event
	}
	return out
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v; want %v", err, want)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
