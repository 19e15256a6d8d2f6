package records_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
	"github.com/livery/livery/tenants/records"
)

// TestRecords runs the store-backed suite against the directory driver
// and a real MinIO server (a bucket per test).
func TestRecords(t *testing.T) {
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

var suite = concat(storeTests, seedTests, snapshotTests)

func concat(lists ...[]testCase) []testCase {
	var out []testCase
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var (
	operator  = authz.Subject{User: "olga", Roles: []string{authz.RoleOperator}}
	masterKey = bytes.Repeat([]byte{7}, 32)
	t0        = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

type notifier struct {
	mu    sync.Mutex
	ids   []string
	calls int
}

func (n *notifier) TenantsChanged(_ context.Context, ids []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, ids...)
	n.calls++
}

func (n *notifier) count(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, x := range n.ids {
		if x == id {
			c++
		}
	}
	return c
}

// flakySink fails the next n records, then writes through.
type flakySink struct {
	audit.Sink
	mu sync.Mutex
	n  int
}

var errInjected = errors.New("injected audit failure")

func (f *flakySink) Record(ctx context.Context, r audit.Record) error {
	f.mu.Lock()
	fail := f.n > 0
	if fail {
		f.n--
	}
	f.mu.Unlock()
	if fail {
		return errInjected
	}
	return f.Sink.Record(ctx, r)
}

type env struct {
	ctx    context.Context
	raw    objstore.Store
	sealer *records.Sealer
	s      *records.Store
	log    *audit.Log
	notify *notifier
	clock  *clock
}

func newEnv(t *testing.T, st objstore.Store) *env {
	sealer, err := records.NewSealer(masterKey)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: context.Background(), raw: st, sealer: sealer, log: audit.NewLog(st, records.AuditStream),
		notify: &notifier{}, clock: &clock{t: t0}}
	e.s = e.store(e.log)
	return e
}

// store returns another Store on the same object store (another instance).
func (e *env) store(sink audit.Sink) *records.Store {
	return records.New(e.raw, e.sealer, records.Options{Audit: sink, Notifier: e.notify, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func (e *env) audits(t *testing.T, id string) []audit.Record {
	t.Helper()
	rs, err := e.log.Records(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func (e *env) raws(t *testing.T) string {
	t.Helper()
	b, _, err := objstore.GetBytes(e.ctx, e.raw, records.RegistryKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ptr(s string) *string { return &s }

// input is a valid tenant with a sign-in secret.
func input(id string, hosts ...string) records.Input {
	if len(hosts) == 0 {
		hosts = []string{"console." + id + ".example"}
	}
	return records.Input{ID: id, Name: records.Names{ZH: id + " 公司", EN: strings.ToUpper(id) + " Ltd"}, Hosts: hosts,
		Upstream: "https://console.cloud.example", Risk: records.Risk{PerDevice: "3/1h"},
		SignIn: &records.SignInInput{Issuer: "https://idp." + id + ".example", ClientID: id + "-console",
			ClientSecret: ptr("s3cret-" + id), Scopes: []string{"openid", "profile"}}}
}

func mustCreate(t *testing.T, e *env, in records.Input) records.Record {
	t.Helper()
	r, err := e.s.Create(e.ctx, in, operator)
	if err != nil {
		t.Fatalf("Create %s: %v", in.ID, err)
	}
	return r
}

var errStore = errors.New("injected store failure")

// faultStore fails the next n Puts of keys containing substr.
type faultStore struct {
	objstore.Store
	mu     sync.Mutex
	substr string
	n      int
}

func (f *faultStore) Put(ctx context.Context, key string, r io.Reader, size int64, o objstore.PutOptions) (objstore.Object, error) {
	f.mu.Lock()
	fail := f.n > 0 && strings.Contains(key, f.substr)
	if fail {
		f.n--
	}
	f.mu.Unlock()
	if fail {
		return objstore.Object{}, errStore
	}
	return f.Store.Put(ctx, key, r, size, o)
}
