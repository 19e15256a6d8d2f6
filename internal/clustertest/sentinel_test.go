package clustertest

import (
	"context"
	"testing"
	"time"

	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
)

// With Redis Sentinel, killing the master loses no session that was
// replicated, and writes resume on the promoted replica within seconds.
func TestSentinelFailover(t *testing.T) {
	s := testenv.StartRedisSentinel(t)
	ctx := context.Background()
	conn, err := redisx.Open(ctx, redisx.Options{MasterName: s.MasterName, SentinelAddrs: s.Sentinels})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if conn.Mode != "sentinel" {
		t.Fatalf("mode = %s", conn.Mode)
	}
	st := sessions.New(conn, sessions.Options{IdleTimeout: time.Hour, MaxLifetime: 2 * time.Hour, CacheEntries: 10, Logger: quiet})
	t.Cleanup(st.Close)
	var ids []string
	for range 20 {
		sess, err := st.Create(ctx, sessions.Session{Tenant: "acme", Kind: "customer", Issuer: "https://idp", Subject: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sess.ID)
	}
	// Acknowledged by the replica before the master dies (what Redis
	// replication promises: asynchronous, so WAIT makes it certain here).
	if n, err := conn.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}

	s.Master.Stop()
	killed := time.Now()
	var resumed time.Duration
	for {
		wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := conn.Set(wctx, redisx.KeySessions+"probe", "x", time.Minute).Err()
		cancel()
		if err == nil {
			resumed = time.Since(killed)
			break
		}
		if time.Since(killed) > 30*time.Second {
			t.Fatalf("writes did not resume within 30 s of the master's death: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	master, err := s.CurrentMaster(ctx)
	if err != nil || master != s.Replica.Addr {
		t.Fatalf("master after failover = %s, %v; want the replica %s", master, err, s.Replica.Addr)
	}
	t.Logf("master killed → writes resumed on the promoted replica after %s", resumed.Round(time.Millisecond))
	fresh := sessions.New(conn, sessions.Options{IdleTimeout: time.Hour, MaxLifetime: 2 * time.Hour, CacheEntries: 10, Logger: quiet})
	t.Cleanup(fresh.Close)
	for _, id := range ids {
		if _, err := fresh.Get(ctx, id); err != nil {
			t.Errorf("session %s lost in the failover: %v", id, err)
		}
	}
	if _, err := fresh.Create(ctx, sessions.Session{Tenant: "acme", Kind: "customer", Issuer: "https://idp", Subject: "bob"}); err != nil {
		t.Errorf("a new session after the failover: %v", err)
	}
}
