package clustertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
)

// A Redis Cluster master dies: its replica takes its slots over and
// writes to them resume, through the client Livery opens (redisx.Open).
func TestClusterMasterFailover(t *testing.T) {
	cl := testenv.StartRedisCluster(t, 3)
	cl.AddReplicas(t)
	ctx := context.Background()
	conn, err := redisx.Open(ctx, redisx.Options{Addrs: cl.Addrs[:3]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A key on the first master's slots (0..5460).
	var key string
	for i := 0; ; i++ {
		k := fmt.Sprintf("%sprobe-%d", redisx.KeySessions, i)
		slot, err := conn.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if slot < 5461 {
			key = k
			break
		}
	}
	if err := conn.Set(ctx, key, "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	cl.Nodes[0].Stop()
	killed := time.Now()
	var last error
	for time.Since(killed) < 30*time.Second {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		last = conn.Set(wctx, key, "after", 0).Err()
		cancel()
		if last == nil {
			t.Logf("master killed → writes to its slots resumed after %s", time.Since(killed).Round(time.Millisecond))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	info, _ := conn.ClusterInfo(ctx).Result()
	t.Fatalf("writes did not resume within 30 s: %v\n%s", last, strings.TrimSpace(info))
}
