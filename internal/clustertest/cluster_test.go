package clustertest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/codes"
	"github.com/livery/livery/tenants/keyusage"
	"github.com/livery/livery/tenants/live"
	"github.com/livery/livery/tenants/ratelimit"
	"github.com/livery/livery/tenants/records"
)

var quiet = slog.New(slog.DiscardHandler)

func TestOnRedisCluster(t *testing.T) {
	cl := testenv.StartRedisCluster(t, 3)
	guard := &testenv.SlotGuard{}
	rdb := cl.Client(t, guard)
	ctx := context.Background()
	t.Cleanup(func() { guard.Check(t) })

	t.Run("sessions: create, get on another instance, rotate, end by subject", func(t *testing.T) {
		o := sessions.Options{IdleTimeout: time.Minute, MaxLifetime: time.Hour, CacheEntries: 100, Logger: quiet}
		a, b := sessions.New(rdb, o), sessions.New(cl.Client(t, guard), o)
		t.Cleanup(a.Close)
		t.Cleanup(b.Close)
		var made []*sessions.Session
		for i := range 5 { // enough ids that they spread over the masters
			s, err := a.Create(ctx, sessions.Session{Tenant: "acme", Kind: "customer", Issuer: "https://idp", Subject: "alice",
				SID: fmt.Sprint("sid-", i), User: "Alice"})
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, s)
		}
		if got, err := b.Get(ctx, made[0].ID); err != nil || got.Subject != "alice" {
			t.Fatalf("Get on B = %v, %v", got, err)
		}
		rot, err := a.Rotate(ctx, made[0], func(s *sessions.Session) { s.User = "Alice 2" })
		if err != nil {
			t.Fatal(err)
		}
		// B cached the old id: the invalidation notice crosses the cluster.
		endsWithin(t, b, made[0].ID, "the rotated-away id on B")
		n, err := b.EndBySubject(ctx, "https://idp", "alice")
		if err != nil || n != 6 { // the five, the rotated one, and the id rotated away
			t.Fatalf("EndBySubject = %d, %v; want 6 ids ended", n, err)
		}
		for _, s := range append(made[1:], rot) {
			endsWithin(t, a, s.ID, "a session ended by back-channel logout, on A")
		}
	})

	t.Run("verification codes: issue, check once", func(t *testing.T) {
		st := codes.New(rdb, codes.Options{})
		code, err := st.Issue(ctx, "acme", "13812345678", "register", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Check(ctx, "acme", "13812345678", "register", code); err != nil {
			t.Fatalf("Check = %v", err)
		}
		if err := st.Check(ctx, "acme", "13812345678", "register", code); err == nil {
			t.Error("a code was accepted twice")
		}
	})

	t.Run("rate limits and risk control", func(t *testing.T) {
		l := ratelimit.New(rdb)
		lim := ratelimit.PerSecond(2)
		for i, want := range []bool{true, true, false} {
			d, err := l.Allow(ctx, "api:create:acme:1.2.3.4", lim)
			if err != nil || d.Allowed != want {
				t.Fatalf("Allow #%d = %+v, %v", i+1, d, err)
			}
		}
		p := tenants.RiskPolicy{PerDevice: tenants.PerHour(1), PerAddress: tenants.PerHour(10), PerPartner: tenants.PerHour(100)}
		if _, which, err := l.CheckRegistration(ctx, "acme", "dev-1", "10.0.0.1", p); err != nil || which != "" {
			t.Fatalf("first registration: %q, %v", which, err)
		}
		if _, which, err := l.CheckRegistration(ctx, "acme", "dev-1", "10.0.0.2", p); err != nil || which != "device" {
			t.Fatalf("second from the device: %q, %v; want refused per device", which, err)
		}
	})

	t.Run("access-key usage", func(t *testing.T) {
		u := keyusage.Usage{RDB: rdb}
		at := time.Now().UTC().Truncate(time.Second)
		if err := u.Touch(ctx, "acme", "AK1", at); err != nil {
			t.Fatal(err)
		}
		got, err := u.LastUsed(ctx, "acme")
		if err != nil || !got["AK1"].Equal(at) {
			t.Fatalf("LastUsed = %v, %v", got, err)
		}
	})

	t.Run("tenant table: a change on A reaches B through the cluster's pub/sub", func(t *testing.T) {
		raw, err := objstore.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		sealer, _ := records.NewSealer(bytes.Repeat([]byte{7}, 32))
		table := func() *live.Table {
			tb := live.New(records.New(raw, sealer, records.Options{Logger: quiet}), sealer, cl.Client(t, guard),
				live.Options{RefreshEvery: time.Hour, Logger: quiet})
			c, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { tb.Run(c); close(done) }()
			t.Cleanup(func() { cancel(); <-done })
			select {
			case <-tb.Subscribed():
			case <-time.After(10 * time.Second):
				t.Fatal("not subscribed")
			}
			return tb
		}
		a, b := table(), table()
		st := records.New(raw, sealer, records.Options{Notifier: a, Logger: quiet})
		if _, err := st.Create(ctx, records.Input{ID: "nova", Name: records.Names{ZH: "新星", EN: "Nova"},
			Hosts: []string{"nova.example"}, Upstream: "https://console.example",
			Provisioner: records.ProvisionerInput{Kind: records.ProvisionerBuiltin}},
			authz.Subject{User: "olga", Roles: []string{authz.RoleOperator}}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for {
			if _, ok := b.ByHost("nova.example"); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("B did not serve the new tenant within 1 s")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// endsWithin waits up to 1 s for session id to stop working on st (its
// in-process cache learns of the end by the cluster's pub/sub).
func endsWithin(t *testing.T, st *sessions.Store, id, what string) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		if _, err := st.Get(context.Background(), id); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still works after 1 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
