package authz

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var customerAcme = Subject{User: "cindy", Roles: []string{RoleCustomer}, Tenant: homeTenant}

// allowedGet reports whether customerAcme may GET path in its tenant,
// failing the test on any error other than a denial.
func allowedGet(t testing.TB, c *Casbin, path string) bool {
	t.Helper()
	d, err := c.Authorize(context.Background(), customerAcme, Request{Tenant: homeTenant, Object: path, Action: "GET"})
	if err != nil && !errors.Is(err, ErrDenied) {
		t.Errorf("GET %s: unexpected error %v", path, err)
	}
	return err == nil && d.Allowed
}

// only returns a policy that lets customers GET exactly path.
func only(path string) string { return "# test policy\np, customer, *, " + path + ", GET, allow\n" }

// eventually polls cond until it holds or a generous deadline passes. It
// waits for an event; it asserts nothing about how long the event takes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reloadRecorder is an Options.OnReload that never blocks.
type reloadRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *reloadRecorder) record(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

// sawError reports whether some reload failed with an error containing s.
func (r *reloadRecorder) sawError(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.errs {
		if err != nil && errors.Is(err, ErrInvalidPolicy) && strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

func TestReload(t *testing.T) {
	rec := &reloadRecorder{}
	path := writePolicy(t, t.TempDir(), only("/overview"))
	c, err := NewCasbin("", path, Options{Logger: quietLogger(), OnReload: rec.record})
	if err != nil {
		t.Fatal(err)
	}
	if !allowedGet(t, c, "/overview") || allowedGet(t, c, "/billing") {
		t.Fatal("initial policy not in effect")
	}
	before := c.Explain(customerAcme, Request{Tenant: homeTenant, Object: "/overview", Action: "GET"}).LoadedAt

	writePolicy(t, filepath.Dir(path), only("/billing"))
	if err := c.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if allowedGet(t, c, "/overview") || !allowedGet(t, c, "/billing") {
		t.Fatal("reloaded policy not in effect")
	}
	if e := c.Explain(customerAcme, Request{Tenant: homeTenant, Object: "/billing", Action: "GET"}); e.LoadedAt.Before(before) || e.Rules != 1 || e.Source != path {
		t.Fatalf("explanation after reload: source %q, %d rules, loaded %v (before %v)", e.Source, e.Rules, e.LoadedAt, before)
	}

	writePolicy(t, filepath.Dir(path), "p, customer, *, billing, GET, allow\n")
	if err := c.Reload(); !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("Reload of broken file: got %v; want ErrInvalidPolicy at line 1", err)
	}
	if !allowedGet(t, c, "/billing") {
		t.Fatal("previous policy not kept after a broken reload")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(); err == nil || errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("Reload of missing file: got %v; want the os error", err)
	}
	if !allowedGet(t, c, "/billing") {
		t.Fatal("previous policy not kept after a failed read")
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 3 || rec.errs[0] != nil || rec.errs[1] == nil || rec.errs[2] == nil {
		t.Fatalf("OnReload calls: %v; want nil, error, error", rec.errs)
	}
}

func TestReloadEmbedded(t *testing.T) {
	c := embedded(t)
	if err := c.Reload(); err != nil {
		t.Fatalf("Reload(embedded): %v", err)
	}
	checkDecision(t, c, customerAcme, Request{Tenant: homeTenant, Object: "/overview", Action: "GET"}, true)
}

func TestWatchEmbedded(t *testing.T) {
	if err := embedded(t).Watch(context.Background()); !errors.Is(err, ErrNoPolicyFile) {
		t.Fatalf("Watch(embedded) = %v; want ErrNoPolicyFile", err)
	}
}

// startWatch runs c.Watch until the test ends and checks that cancelling
// its context makes it return nil.
func startWatch(t *testing.T, c *Casbin) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch returned %v after cancel; want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func TestWatch(t *testing.T) {
	dir := t.TempDir()
	path := writePolicy(t, dir, only("/overview"))
	rec := &reloadRecorder{}
	c, err := NewCasbin("", path, Options{Logger: quietLogger(), Debounce: 10 * time.Millisecond, OnReload: rec.record})
	if err != nil {
		t.Fatal(err)
	}
	stop := startWatch(t, c)

	// Replace by rename, as editors and config management do. This first
	// change may be seen by Watch's initial check rather than by an event;
	// once it is in effect the watch is established and the later changes
	// can only be seen through events.
	tmp := filepath.Join(dir, ".policy.csv.tmp")
	if err := os.WriteFile(tmp, []byte(only("/billing")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "policy replaced by rename takes effect", func() bool { return allowedGet(t, c, "/billing") })
	if allowedGet(t, c, "/overview") {
		t.Fatal("old rule still active after rename")
	}

	// Write in place (the file watch was re-armed after the rename).
	writePolicy(t, dir, only("/resources"))
	eventually(t, "policy written in place takes effect", func() bool { return allowedGet(t, c, "/resources") })

	// A broken file is reported and the previous policy stays.
	writePolicy(t, dir, "p, customer, *, billing, GET, allow\n")
	eventually(t, "OnReload reports the broken file", func() bool { return rec.sawError(`object "billing" must start with /`) })
	if !allowedGet(t, c, "/resources") || allowedGet(t, c, "/billing") {
		t.Fatal("previous policy not kept after a broken file")
	}

	// And the watch goes on: a fixed file is picked up.
	if err := os.WriteFile(tmp, []byte(only("/support")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "fixed policy takes effect", func() bool { return allowedGet(t, c, "/support") })

	stop()
	// After Watch returned, changes are no longer followed; Reload still works.
	writePolicy(t, dir, only("/overview"))
	if allowedGet(t, c, "/overview") {
		t.Fatal("policy changed without a watch or reload")
	}
	if err := c.Reload(); err != nil || !allowedGet(t, c, "/overview") {
		t.Fatalf("Reload after Watch: %v", err)
	}
}

// TestWatchSymlinkSwap follows a Kubernetes ConfigMap volume, where the file
// is a symlink through "..data" and an update swaps "..data" by rename.
func TestWatchSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	version := func(name, data string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		writePolicy(t, filepath.Join(dir, name), data)
	}
	version("..v1", only("/overview"))
	if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	path := filepath.Join(dir, "policy.csv")
	if err := os.Symlink(filepath.Join("..data", "policy.csv"), path); err != nil {
		t.Fatal(err)
	}
	c, err := NewCasbin("", path, Options{Logger: quietLogger(), Debounce: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	startWatch(t, c)

	// The first swap may be seen by Watch's initial check; once it is in
	// effect the watch is established, so the second one needs the events.
	for _, v := range []struct{ name, path string }{{"..v2", "/billing"}, {"..v3", "/resources"}} {
		version(v.name, only(v.path))
		if err := os.Symlink(v.name, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "ConfigMap version "+v.name+" takes effect", func() bool { return allowedGet(t, c, v.path) })
	}
}

// Decisions stay consistent while the policy is reloaded under them: each
// decision comes from one complete policy. Run with -race.
func TestConcurrentAuthorizeAndReload(t *testing.T) {
	const (
		polA = "p, customer, *, /overview, GET, allow\np, customer, *, /billing, GET, allow\n"            // 2 rules
		polB = "p, customer, *, /overview, GET, allow\np, customer, *, /billing, GET, deny\ng, a, b, *\n" // 3 rules
	)
	dir := t.TempDir()
	path := writePolicy(t, dir, polA)
	c, err := NewCasbin("", path, Options{Logger: quietLogger(), Debounce: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	startWatch(t, c) // reloads from the watcher too, racing with Reload

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if !allowedGet(t, c, "/overview") {
					t.Error("GET /overview denied; it is allowed by every version")
					return
				}
				allowedGet(t, c, "/billing") // either answer; no other error
				e := c.Explain(customerAcme, Request{Tenant: homeTenant, Object: "/billing", Action: "GET"})
				if want := map[bool]int{true: 2, false: 3}[e.Decision.Allowed]; e.Rules != want {
					t.Errorf("explanation mixes policies: allowed=%v with %d rules", e.Decision.Allowed, e.Rules)
					return
				}
			}
		}()
	}
	for i := 0; i < 60; i++ {
		// Replace atomically: a torn in-place write could be a valid but
		// different policy (a prefix of it) for the watcher to load.
		tmp := filepath.Join(dir, "next.tmp")
		if err := os.WriteFile(tmp, []byte(map[bool]string{true: polA, false: polB}[i%2 == 0]), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		if err := c.Reload(); err != nil {
			t.Errorf("Reload: %v", err)
		}
	}
	close(stop)
	wg.Wait()
}

func BenchmarkAuthorize(b *testing.B) {
	c := embedded(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		s    Subject
		r    Request
	}{
		{"customer console GET", customerAcme, Request{Tenant: homeTenant, Object: "/overview", Action: "GET"}},
		{"partner_admin admin endpoint", Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant},
			Request{Tenant: homeTenant, Object: "/admin/v1/tenants/acme/customers/c1/managers", Action: "PUT"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d, err := c.Authorize(ctx, bc.s, bc.r); err != nil || !d.Allowed {
					b.Fatalf("not allowed: %+v, %v", d, err)
				}
			}
		})
		// The first decision for a request walks the policy; Authorize
		// then answers repeats from its cache.
		b.Run(bc.name+" uncached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d, _, err := c.evaluate(c.cur.Load(), bc.s, bc.r); err != nil || !d.Allowed {
					b.Fatalf("not allowed: %+v, %v", d, err)
				}
			}
		})
	}
}
