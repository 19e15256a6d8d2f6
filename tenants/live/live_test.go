package live_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/live"
	"github.com/livery/livery/tenants/records"
)

var (
	quiet    = slog.New(slog.NewTextHandler(io.Discard, nil))
	operator = authz.Subject{User: "olga", Roles: []string{authz.RoleOperator}}
)

func ptr(s string) *string { return &s }

func input(id string, hosts ...string) records.Input {
	if len(hosts) == 0 {
		hosts = []string{"console." + id + ".example"}
	}
	return records.Input{ID: id, Name: records.Names{ZH: id + " 公司", EN: strings.ToUpper(id) + " Ltd"}, Hosts: hosts,
		Upstream: "https://console.cloud.example",
		SignIn: &records.SignInInput{Issuer: "https://idp." + id + ".example", ClientID: id + "-console",
			ClientSecret: ptr("s3cret-" + id)}}
}

// counting counts the snapshot reads that reach the object store.
type counting struct {
	live.Source
	n atomic.Int64
}

func (c *counting) Snapshot(ctx context.Context) (*records.Snapshot, error) {
	c.n.Add(1)
	return c.Source.Snapshot(ctx)
}

// instance is one gateway's records store and tenant table.
type instance struct {
	store *records.Store
	table *live.Table
	src   *counting
	cmds  *commandCounter
}

type world struct {
	raw    objstore.Store
	sealer *records.Sealer
	addr   string
}

func newWorld(t *testing.T, raw objstore.Store) *world {
	s, err := records.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &world{raw: raw, sealer: s, addr: testenv.Redis(t)}
}

// instance starts a table that refreshes only every refresh (so that
// pub/sub alone must deliver changes faster).
func (w *world) instance(t *testing.T, refresh time.Duration) *instance {
	t.Helper()
	in := &instance{cmds: &commandCounter{}}
	rdb := redis.NewClient(&redis.Options{Addr: w.addr, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
	rdb.AddHook(in.cmds)
	t.Cleanup(func() { rdb.Close() })
	reader := records.New(w.raw, w.sealer, records.Options{Logger: quiet})
	in.src = &counting{Source: reader}
	in.table = live.New(in.src, w.sealer, rdb, live.Options{RefreshEvery: refresh, Logger: quiet})
	in.store = records.New(w.raw, w.sealer, records.Options{Notifier: in.table, Logger: quiet})
	if err := in.table.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { in.table.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-in.table.Subscribed():
	case <-time.After(5 * time.Second):
		t.Fatal("table did not subscribe")
	}
	return in
}

type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// eventually waits up to d for cond and returns how long it took.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func TestTable(t *testing.T) {
	for _, b := range objstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("changes reach the other instance within 1s", func(t *testing.T) { testTwoInstances(t, newWorld(t, b.Open(t))) })
			t.Run("store down keeps the table", func(t *testing.T) { testStoreDown(t, newWorld(t, b.Open(t))) })
		})
	}
}

// Create on A, serve on B; change the upstream on B, A sees it; suspend on
// A, B sees it — each within 1 s with a periodic refresh of an hour, so
// only the pub/sub notice can have carried it.
func testTwoInstances(t *testing.T, w *world) {
	ctx := context.Background()
	a, b := w.instance(t, time.Hour), w.instance(t, time.Hour)
	if _, ok := b.table.ByHost("console.acme.example"); ok {
		t.Fatal("tenant served before it exists")
	}
	if _, err := a.store.Create(ctx, input("acme"), operator); err != nil {
		t.Fatal(err)
	}
	if tn, ok := a.table.ByHost("console.acme.example"); !ok || tn.SignIn.ClientSecret != "s3cret-acme" {
		t.Fatalf("writer does not serve its own create at once: %+v %v", tn, ok)
	}
	took := eventually(t, time.Second, "create on A served by B", func() bool {
		_, ok := b.table.ByHost("console.acme.example")
		return ok
	})
	t.Logf("create: B serves it after %s", took)

	held, _ := a.table.ByHost("console.acme.example") // a request in flight on A
	in := input("acme")
	in.Upstream = "https://console-v2.cloud.example"
	in.SignIn.ClientSecret = nil // keep
	if _, err := b.store.Update(ctx, in, 1, operator); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, time.Second, "upstream change on B seen by A", func() bool {
		tn, _ := a.table.ByID("acme")
		return tn.Upstream.Host == "console-v2.cloud.example"
	})
	t.Logf("update: A proxies to the new upstream after %s", took)
	if held.Upstream.Host != "console.cloud.example" {
		t.Errorf("a tenant held by a request in flight changed under it: %s", held.Upstream)
	}
	if tn, _ := a.table.ByID("acme"); tn.SignIn.ClientSecret != "s3cret-acme" {
		t.Errorf("kept secret = %q", tn.SignIn.ClientSecret)
	}

	if _, err := a.store.Suspend(ctx, "acme", "unpaid", operator); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, time.Second, "suspension on A seen by B", func() bool {
		tn, _ := b.table.ByID("acme")
		return tn.Suspended
	})
	t.Logf("suspend: B refuses after %s", took)

	// Steady state: lookups do no Redis and no object-store I/O.
	cmds, loads := b.cmds.n.Load(), b.src.n.Load()
	for range 1000 {
		if _, ok := b.table.ByHost("CONSOLE.ACME.EXAMPLE:8080"); !ok {
			t.Fatal("lookup missed")
		}
	}
	if d := b.cmds.n.Load() - cmds; d != 0 {
		t.Errorf("1000 lookups sent %d Redis commands", d)
	}
	if d := b.src.n.Load() - loads; d != 0 {
		t.Errorf("1000 lookups made %d store reads", d)
	}
	if s := b.table.Stats(); s.Tenants != 1 || s.Swaps < 3 {
		t.Errorf("stats = %+v", s)
	}
}

// downSource fails while down is set.
type downSource struct {
	live.Source
	down atomic.Bool
}

var errDown = errors.New("store unreachable")

func (d *downSource) Snapshot(ctx context.Context) (*records.Snapshot, error) {
	if d.down.Load() {
		return nil, errDown
	}
	return d.Source.Snapshot(ctx)
}

func testStoreDown(t *testing.T, w *world) {
	ctx := context.Background()
	st := records.New(w.raw, w.sealer, records.Options{Logger: quiet})
	if _, err := st.Create(ctx, input("acme"), operator); err != nil {
		t.Fatal(err)
	}
	src := &downSource{Source: st}
	var swaps []string
	tbl := live.New(src, w.sealer, nil, live.Options{Logger: quiet, OnSwap: func(before, after *tenants.Registry) {
		n := -1
		if before != nil {
			n = len(before.All())
		}
		swaps = append(swaps, strings.Repeat("x", max(n, 0))+"→"+strings.Repeat("x", len(after.All())))
	}})
	if _, ok := tbl.ByID("acme"); ok {
		t.Fatal("an empty table served a tenant")
	}
	if err := tbl.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Refresh(ctx); err != nil { // nothing changed: no swap
		t.Fatal(err)
	}
	src.down.Store(true)
	if err := tbl.Refresh(ctx); !errors.Is(err, errDown) || !errors.Is(tbl.Err(), errDown) {
		t.Fatalf("Refresh with the store down = %v (Err %v)", err, tbl.Err())
	}
	if _, ok := tbl.ByID("acme"); !ok {
		t.Fatal("a failed refresh dropped the table")
	}
	src.down.Store(false)
	if _, err := st.Create(ctx, input("beta"), operator); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Refresh(ctx); err != nil || tbl.Err() != nil {
		t.Fatal(err, tbl.Err())
	}
	if _, ok := tbl.ByHost("console.beta.example"); !ok {
		t.Fatal("beta not served after the store came back")
	}
	if got := strings.Join(swaps, " "); got != "→x x→xx" {
		t.Errorf("swaps = %q; want the first (no table before) and one per change", got)
	}
}

// A tenant whose secret does not open under this instance's master key is
// left out (its hosts unknown), never served without sign-in; the others
// are served and the error names it.
func TestUnopenableTenantLeftOut(t *testing.T) {
	ctx := context.Background()
	raw, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{raw: raw}
	w.sealer, _ = records.NewSealer(bytes.Repeat([]byte{7}, 32))
	st := records.New(raw, w.sealer, records.Options{Logger: quiet})
	beta := input("beta")
	beta.SignIn.ClientSecret = nil // a public client: nothing sealed
	for _, in := range []records.Input{input("acme"), beta} {
		if _, err := st.Create(ctx, in, operator); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := records.NewSealer(bytes.Repeat([]byte{9}, 32))
	tbl := live.New(st, other, nil, live.Options{Logger: quiet})
	err = tbl.Refresh(ctx)
	if !errors.Is(err, records.ErrUnseal) || !strings.Contains(err.Error(), `"acme"`) {
		t.Fatalf("Refresh = %v", err)
	}
	if _, ok := tbl.ByHost("console.acme.example"); ok {
		t.Error("a tenant whose client secret does not open is served")
	}
	if _, ok := tbl.ByHost("console.beta.example"); !ok {
		t.Error("the other tenants are not served")
	}
}
