package association_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
)

// TestAssociation runs the store-backed suite against the directory driver
// and a real MinIO server (a bucket per test).
func TestAssociation(t *testing.T) {
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

var suite = concat(invitationTests, failureTests, changeTests, recoveryTests, managerTests, sweepTests)

func concat(lists ...[]testCase) []testCase {
	var out []testCase
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

const (
	tenant = "acme"
	other  = "globex"
)

var (
	admin      = authz.Subject{User: "pam", Roles: []string{authz.RolePartnerAdmin}, Tenant: tenant}
	otherAdmin = authz.Subject{User: "gus", Roles: []string{authz.RolePartnerAdmin}, Tenant: other}
	manager    = authz.Subject{User: "carl", Roles: []string{authz.RoleCustomerManager}, Tenant: tenant}
	cindy      = authz.Subject{User: "cindy", Roles: []string{authz.RoleCustomer}, Customer: "c-cindy"}
	dora       = authz.Subject{User: "dora", Roles: []string{authz.RoleCustomer}, Customer: "c-dora"}
	delegated  = authz.Subject{User: "pam", Roles: []string{authz.RoleDelegated}, Tenant: tenant, Customer: "c-cindy"}
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable clock that moves a microsecond per reading.
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

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var errInjected = errors.New("injected failure")

// faultStore fails chosen Puts (by key substring, after skipping some),
// to simulate a crash between steps.
type faultStore struct {
	objstore.Store
	mu     sync.Mutex
	rules  []*rule
	before map[string]func() // run once before the next Put of a key containing the substring
}

// beforeNextPut runs fn (once) just before the next Put of a key
// containing substr: a concurrent change slipped in between a read and a
// conditional write.
func (f *faultStore) beforeNextPut(substr string, fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.before == nil {
		f.before = map[string]func(){}
	}
	f.before[substr] = fn
}

type rule struct {
	substr     string
	skip, fail int
}

func (f *faultStore) failPuts(substr string, skip, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &rule{substr: substr, skip: skip, fail: n})
}

func (f *faultStore) Put(ctx context.Context, key string, r io.Reader, size int64, o objstore.PutOptions) (objstore.Object, error) {
	f.mu.Lock()
	for p, fn := range f.before {
		if strings.Contains(key, p) {
			delete(f.before, p)
			f.mu.Unlock()
			fn()
			f.mu.Lock()
			break
		}
	}
	for _, x := range f.rules {
		if x.fail > 0 && strings.Contains(key, x.substr) {
			if x.skip > 0 {
				x.skip--
				continue
			}
			x.fail--
			f.mu.Unlock()
			return objstore.Object{}, errInjected
		}
	}
	f.mu.Unlock()
	return f.Store.Put(ctx, key, r, size, o)
}

// accounts is the caller's knowledge of cloud accounts.
type accounts struct {
	mu   sync.Mutex
	info map[string]association.AccountInfo
}

func (a *accounts) Account(_ context.Context, _, c string) (association.AccountInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.info[c], nil
}

func (a *accounts) set(c string, i association.AccountInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.info[c] = i
}

// registry records what was applied; it fails the next fail calls.
type registry struct {
	mu      sync.Mutex
	applied map[string]association.Binding
	calls   int
	fail    int
}

func (r *registry) Apply(_ context.Context, b association.Binding) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail > 0 {
		r.fail--
		return errInjected
	}
	r.applied[b.Customer] = b
	return nil
}

func (r *registry) get(c string) association.Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied[c]
}

// hook records unbound customers; it fails the next fail calls.
type hook struct {
	mu    sync.Mutex
	ended []string
	fail  int
}

func (h *hook) CustomerUnbound(_ context.Context, tenant, customer string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail > 0 {
		h.fail--
		return errInjected
	}
	h.ended = append(h.ended, tenant+"/"+customer)
	return nil
}

func (h *hook) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ended...)
}

// announcer records announcements as kind:audience.
type announcer struct {
	mu  sync.Mutex
	got []string
}

func (a *announcer) Announce(_ context.Context, x association.Announcement) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, x.Kind+":"+x.Audience)
}

func (a *announcer) kinds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.got...)
}

type env struct {
	told  *announcer
	raw   objstore.Store
	store *faultStore
	svc   *association.Service
	clock *clock
	accts *accounts
	reg   *registry
	hook  *hook
	ctx   context.Context
}

func newEnv(t *testing.T, st objstore.Store) *env {
	e := &env{raw: st, store: &faultStore{Store: st}, clock: &clock{t: t0},
		accts: &accounts{info: map[string]association.AccountInfo{}},
		reg:   &registry{applied: map[string]association.Binding{}}, hook: &hook{}, told: &announcer{}, ctx: t.Context()}
	e.svc = association.New(e.store, association.Options{Accounts: e.accts, Registry: e.reg, Unbound: e.hook, Announcer: e.told,
		Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	return e
}

func (e *env) invite(t *testing.T, kind, typ string) (association.Invitation, string) {
	t.Helper()
	return e.inviteAs(t, admin, association.CreateInput{Kind: kind, AssociationType: typ})
}

func (e *env) inviteAs(t *testing.T, a authz.Subject, in association.CreateInput) (association.Invitation, string) {
	t.Helper()
	inv, tok, err := e.svc.Create(e.ctx, a.Tenant, in, a)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return inv, tok
}

func (e *env) sign(t *testing.T, token string, a authz.Subject) {
	t.Helper()
	if _, err := e.svc.Sign(e.ctx, token, association.NoticeVersion, a); err != nil {
		t.Fatalf("Sign: %v", err)
	}
}

// associate invites a (resale, online), signs and accepts.
func (e *env) associate(t *testing.T, a authz.Subject) association.Binding {
	t.Helper()
	_, tok := e.invite(t, association.Online, association.TypeResale)
	e.sign(t, tok, a)
	_, b, err := e.svc.Accept(e.ctx, tok, a)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return b
}

func (e *env) events(t *testing.T, tn, customer string) []string {
	t.Helper()
	recs, err := e.svc.Events(e.ctx, tn, customer)
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

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type subject = authz.Subject
