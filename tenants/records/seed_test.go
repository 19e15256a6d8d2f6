package records_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants/records"
)

var seedTests = []testCase{
	{"seed: absent created, file-managed overwritten, store-managed kept", func(t *testing.T, e *env) {
		fileA := input("acme")
		fileA.Managed = records.ManagedFile
		mustCreate(t, e, fileA)
		storeB := input("beta")
		storeB.Managed = records.ManagedStore
		mustCreate(t, e, storeB)
		mustCreate(t, e, input("delta")) // created at runtime, not in the file
		if _, err := e.s.Suspend(e.ctx, "acme", "", operator); err != nil {
			t.Fatal(err)
		}

		// The file now says other things about acme and beta, and adds gamma.
		a, b := input("acme"), input("beta")
		a.Upstream, b.Upstream = "https://file.cloud.example", "https://file.cloud.example"
		a.SignIn.ClientSecret = ptr("rotated-in-file")
		want := []records.SeedEntry{
			{ID: "acme", Action: records.SeedUpdated, Fields: []string{"upstream", "sign_in.client_secret"}},
			{ID: "beta", Action: records.SeedKept, Fields: []string{"upstream"}},
			{ID: "gamma", Action: records.SeedCreated},
			{ID: "delta", Action: records.SeedStoreOnly},
		}
		// Plan (check-config) tells the same and writes nothing.
		plan, err := e.s.Plan(e.ctx, []records.Input{a, b, input("gamma")})
		if err != nil {
			t.Fatalf("Plan: %v", err)
		}
		for i, w := range want {
			if g := plan.Entries[i]; len(plan.Entries) != len(want) || g.ID != w.ID || g.Action != w.Action || !slices.Equal(g.Fields, w.Fields) {
				t.Errorf("plan entry %d = %+v, want %+v", i, g, w)
			}
		}
		if _, err := e.s.Get(e.ctx, "gamma"); !errors.Is(err, records.ErrNotFound) {
			t.Fatalf("Plan wrote: Get(gamma) = %v", err)
		}
		rep, err := e.s.Seed(e.ctx, []records.Input{a, b, input("gamma")}, t0.Add(1e9))
		if err != nil {
			t.Fatalf("Seed: %v", err)
		}
		if len(rep.Entries) != len(want) {
			t.Fatalf("report = %+v", rep.Entries)
		}
		for i, w := range want {
			g := rep.Entries[i]
			if g.ID != w.ID || g.Action != w.Action || !slices.Equal(g.Fields, w.Fields) || g.Err != nil {
				t.Errorf("entry %d = %+v, want %+v", i, g, w)
			}
		}
		ra, _ := e.s.Get(e.ctx, "acme")
		if ra.Upstream != "https://file.cloud.example" || ra.Status != records.StatusSuspended || ra.UpdatedBy != records.SeedActor {
			t.Errorf("file-managed after seed = %+v (status must be kept)", ra)
		}
		if p, _ := e.sealer.Open("acme", records.FieldClientSecret, ra.SignIn.ClientSecretSealed); string(p) != "rotated-in-file" {
			t.Errorf("secret after seed = %q", p)
		}
		if rb, _ := e.s.Get(e.ctx, "beta"); rb.Upstream != "https://console.cloud.example" || rb.Version != 1 {
			t.Errorf("store-managed after seed = %+v", rb)
		}
		if rg, _ := e.s.Get(e.ctx, "gamma"); rg.Managed != records.ManagedFile || rg.Version != 1 {
			t.Errorf("seeded = %+v", rg)
		}
		as := e.audits(t, "acme")
		last := as[len(as)-1]
		if last.Event != records.EventSeedUpdated || !strings.HasPrefix(last.Detail, "seeded from file: upstream") ||
			!strings.Contains(last.Detail, "sign_in.client_secret: changed") || strings.Contains(last.Detail, "rotated") {
			t.Errorf("seed audit = %+v", last)
		}
		if g := e.audits(t, "gamma"); len(g) != 1 || g[0].Event != records.EventSeedCreated {
			t.Errorf("gamma audit = %+v", g)
		}
		lines := strings.Join(rep.Lines(), "\n")
		for _, w := range []string{"tenant acme: managed: file — overwritten from the file (upstream, sign_in.client_secret)",
			"tenant beta: managed: store — kept as stored; the file differs in upstream", "tenant gamma: created from the file",
			"tenant delta: not in the file"} {
			if !strings.Contains(lines, w) {
				t.Errorf("report lines lack %q:\n%s", w, lines)
			}
		}

		// A second start with the same file changes nothing.
		rep, err = e.s.Seed(e.ctx, []records.Input{a, b, input("gamma")}, t0.Add(2e9))
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.IDs(records.SeedUnchanged); !slices.Equal(got, []string{"acme", "gamma"}) {
			t.Errorf("unchanged on second seed = %v (%+v)", got, rep.Entries)
		}
		if n := len(e.audits(t, "acme")); n != len(as) {
			t.Errorf("second seed audited: %d records, was %d", n, len(as))
		}
	}},
	{"seed: a host taken at runtime fails that tenant, naming the other", func(t *testing.T, e *env) {
		mustCreate(t, e, input("delta", "new.partner.example"))
		bad := input("gamma", "new.partner.example")
		invalid := input("omega")
		invalid.Hosts = []string{"not a host"}
		rep, err := e.s.Seed(e.ctx, []records.Input{bad, invalid, input("acme")}, t0)
		var hc *records.HostConflictError
		if !errors.As(err, &hc) || hc.Other != "delta" || !errors.Is(err, records.ErrInvalid) {
			t.Fatalf("Seed = %v", err)
		}
		if rep.Entries[0].Action != records.SeedFailed || rep.Entries[1].Action != records.SeedFailed ||
			rep.Entries[2].Action != records.SeedCreated {
			t.Errorf("report = %+v", rep.Entries)
		}
		if _, err := e.s.Get(e.ctx, "gamma"); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("conflicting tenant was stored: %v", err)
		}
	}},
	{"seed writes audit records a crash left pending", func(t *testing.T, e *env) {
		s := e.store(&flakySink{Sink: e.log, n: 1})
		if _, err := s.Create(e.ctx, input("acme"), operator); !errors.Is(err, errInjected) {
			t.Fatalf("Create = %v", err)
		}
		if _, err := e.s.Seed(e.ctx, nil, t0); err != nil {
			t.Fatal(err)
		}
		if rs := e.audits(t, "acme"); len(rs) != 1 || rs[0].Event != records.EventCreated {
			t.Errorf("audit after Seed = %+v", rs)
		}
	}},
}

// countingStore counts the registry's reads and writes.
type countingStore struct {
	objstore.Store
	mu           sync.Mutex
	gets, writes int
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	if key == records.RegistryKey {
		c.mu.Lock()
		c.gets++
		c.mu.Unlock()
	}
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Put(ctx context.Context, key string, r io.Reader, size int64, o objstore.PutOptions) (objstore.Object, error) {
	if key == records.RegistryKey {
		c.mu.Lock()
		c.writes++
		c.mu.Unlock()
	}
	return c.Store.Put(ctx, key, r, size, o)
}

// TestSeedOnePass: seeding many tenants reads the registry once or twice
// and writes it at most once, whatever their number (it was two reads per
// tenant: start-up with 1,000 tenants took 15 s); unchanged, it writes
// nothing; each created tenant is still audited and announced, in one
// notice (one table refresh, not one per tenant).
func TestSeedOnePass(t *testing.T) {
	st, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st}
	e := newEnv(t, cs)
	var specs []records.Input
	for i := range 200 {
		in := input(fmt.Sprintf("t%03d", i))
		in.Hosts = []string{fmt.Sprintf("console.t%03d.test", i)}
		specs = append(specs, in)
	}
	bad := input("bad")
	bad.Hosts = []string{"console.t007.test"} // another tenant's host
	rep, err := e.s.Seed(e.ctx, append(specs, bad), t0)
	if !errors.Is(err, records.ErrHostConflict) {
		t.Fatalf("Seed: %v; want the one host conflict", err)
	}
	created := 0
	for _, en := range rep.Entries {
		if en.Action == records.SeedCreated {
			created++
		}
	}
	if created != 200 || cs.writes != 1 || cs.gets > 2 {
		t.Fatalf("first seed: %d created, %d registry writes, %d reads; want 200, 1, ≤ 2", created, cs.writes, cs.gets)
	}
	if n := len(e.audits(t, "t123")); n != 1 {
		t.Fatalf("t123 has %d audit records, want 1", n)
	}
	if n := e.notify.count("t199"); n != 1 {
		t.Fatalf("t199 announced %d times, want 1", n)
	}
	e.notify.mu.Lock()
	calls := e.notify.calls
	e.notify.mu.Unlock()
	if calls != 1 {
		t.Fatalf("the seed told the table %d times, want once (one refresh for all 200)", calls)
	}
	cs.gets, cs.writes = 0, 0
	if _, err := e.s.Seed(e.ctx, specs, t0); err != nil {
		t.Fatal(err)
	}
	if cs.writes != 0 || cs.gets > 2 {
		t.Fatalf("unchanged seed: %d registry writes, %d reads; want 0, ≤ 2", cs.writes, cs.gets)
	}
}
