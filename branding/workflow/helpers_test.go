package workflow_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
)

// TestWorkflow runs the whole suite against the directory driver and a
// real MinIO server (one server for the package run, a bucket per test).
func TestWorkflow(t *testing.T) {
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

// suite lists every backend-dependent test (the slices live in the
// *_test.go files by concern).
var suite = concat(draftTests, submitTests, decisionTests, liveTests, recoveryTests, fourEyesTests, pageTests, overviewTests)

func concat(lists ...[]testCase) []testCase {
	var out []testCase
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var (
	partner  = authz.Subject{User: "alice", Roles: []string{"partner-admin"}, Tenant: "acme"}
	partner2 = authz.Subject{User: "bob", Roles: []string{"partner-admin"}, Tenant: "acme"}
	operator = authz.Subject{User: "oscar", Roles: []string{"operator"}}
	op2      = authz.Subject{User: "olga", Roles: []string{"operator"}}
)

const tenant = "acme"

// env is one test's service on a fresh store.
type env struct {
	raw      objstore.Store // the backend
	store    *faultStore    // what the service uses
	svc      *workflow.Service
	clock    *fakeClock
	notified *notifier
	told     *announcer
	ctx      context.Context
}

func newEnv(t *testing.T, st objstore.Store) *env {
	e := &env{raw: st, store: &faultStore{Store: st}, clock: &fakeClock{t: time.Date(2026, 2, 9, 9, 0, 0, 0, time.UTC)},
		notified: &notifier{}, told: &announcer{}, ctx: t.Context()}
	e.svc = workflow.New(e.store, workflow.Options{Now: e.clock.Now, Notifier: e.notified, Announcer: e.told,
		Logger: slog.New(slog.DiscardHandler)})
	return e
}

// fakeClock advances one second per reading, so every event has a
// distinct, ordered time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

type notifier struct {
	mu    sync.Mutex
	calls []string
}

func (n *notifier) Published(_ context.Context, tenant string, version int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, tenant+"@"+strconv.Itoa(version))
}

func (n *notifier) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.calls...)
}

// announcer records the outcomes announced.
type announcer struct {
	mu  sync.Mutex
	got []workflow.Outcome
}

func (a *announcer) Announce(_ context.Context, o workflow.Outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, o)
}

func (a *announcer) list() []workflow.Outcome {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]workflow.Outcome(nil), a.got...)
}

var errInjected = errors.New("injected store failure")

// faultStore counts calls and fails chosen Puts (by key prefix), to
// simulate crashes between steps.
type faultStore struct {
	objstore.Store
	calls   atomic.Int64
	mu      sync.Mutex
	failPut map[string]int
	hook    func(key string) // called before every Put
}

func (f *faultStore) setHook(h func(key string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

func (f *faultStore) failNextPuts(prefix string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPut == nil {
		f.failPut = map[string]int{}
	}
	f.failPut[prefix] = n
}

func (f *faultStore) Put(ctx context.Context, key string, r io.Reader, size int64, o objstore.PutOptions) (objstore.Object, error) {
	f.calls.Add(1)
	f.mu.Lock()
	if h := f.hook; h != nil {
		f.mu.Unlock()
		h(key)
		f.mu.Lock()
	}
	for p, n := range f.failPut {
		if n > 0 && strings.HasPrefix(key, p) {
			f.failPut[p] = n - 1
			f.mu.Unlock()
			return objstore.Object{}, errInjected
		}
	}
	f.mu.Unlock()
	return f.Store.Put(ctx, key, r, size, o)
}

func (f *faultStore) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	f.calls.Add(1)
	return f.Store.Get(ctx, key)
}

func (f *faultStore) Stat(ctx context.Context, key string) (objstore.Object, error) {
	f.calls.Add(1)
	return f.Store.Stat(ctx, key)
}

func (f *faultStore) List(ctx context.Context, prefix string) ([]objstore.Object, error) {
	f.calls.Add(1)
	return f.Store.List(ctx, prefix)
}

func (f *faultStore) Delete(ctx context.Context, key string) error {
	f.calls.Add(1)
	return f.Store.Delete(ctx, key)
}

// tinyPNG is a real PNG encoded with image/png.
func tinyPNG(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func validDoc(nav string) branding.Document {
	d := workflow.DefaultDocument()
	d.Brand.NavColor = nav
	d.Brand.LinkZH = "https://partner.example/zh"
	d.Promotions = []branding.Item{{NameZH: "促销", NameEN: "Promo", Link: "https://partner.example/promo"}}
	return d
}

// saveDraft stores doc as the tenant's draft whatever the current ETag.
func (e *env) saveDraft(t *testing.T, tn string, doc branding.Document) workflow.Draft {
	t.Helper()
	cur, err := e.svc.Draft(e.ctx, tn)
	if err != nil {
		t.Fatalf("Draft: %v", err)
	}
	d, err := e.svc.PutDraft(e.ctx, tn, doc, cur.ETag, partner)
	if err != nil {
		t.Fatalf("PutDraft: %v", err)
	}
	return d
}

// submit saves doc as draft and submits it.
func (e *env) submit(t *testing.T, tn string, doc branding.Document) workflow.Submission {
	t.Helper()
	e.saveDraft(t, tn, doc)
	s, err := e.svc.Submit(e.ctx, tn, partner)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return s
}

// publish submits doc and approves it, returning the version.
func (e *env) publish(t *testing.T, tn string, doc branding.Document) workflow.Version {
	t.Helper()
	s := e.submit(t, tn, doc)
	v, err := e.svc.Approve(e.ctx, tn, s.ID, operator, "ok")
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	return v
}

func (e *env) liveNumber(t *testing.T, tn string) int {
	t.Helper()
	v, err := e.svc.Live(e.ctx, tn)
	if err != nil {
		t.Fatalf("Live: %v", err)
	}
	if v == nil {
		return 0
	}
	return v.Number
}

func (e *env) events(t *testing.T, tn string) []string {
	t.Helper()
	recs, err := e.svc.Audit(e.ctx, tn)
	if err != nil {
		t.Fatalf("Audit: %v", err)
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
