package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisSentinel is a master, one replica and one sentinel watching them,
// started by StartRedisSentinel.
type RedisSentinel struct {
	MasterName string
	Master     *RedisServer
	Replica    *RedisServer
	// Sentinels are the sentinel addresses (sentinel_addrs).
	Sentinels []string
}

// StartRedisSentinel starts a master, a replica of it and a sentinel
// (redis-server --sentinel, quorum 1, the master declared down after 1 s)
// on loopback ports, and waits until the replica is in sync and the
// sentinel knows it. Any failure is fatal for the test.
func StartRedisSentinel(t testing.TB) *RedisSentinel {
	t.Helper()
	s := &RedisSentinel{MasterName: "livery"}
	s.Master = StartRedis(t)
	_, mport, _ := strings.Cut(s.Master.Addr, ":")
	s.Replica = StartRedis(t, "--replicaof", "127.0.0.1", mport)
	port := FreePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
		"sentinel monitor %s 127.0.0.1 %s 1\n"+
		"sentinel down-after-milliseconds %[3]s 1000\n"+
		"sentinel failover-timeout %[3]s 5000\n"+
		"sentinel parallel-syncs %[3]s 1\n", port, dir, s.MasterName, mport)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := RedisBinary()
	if err != nil {
		t.Fatalf("%v", err)
	}
	addr := loopback(port)
	p := startProcess(t, "redis-sentinel", exec.Command(bin, conf, "--sentinel"))
	p.waitReady(t, "redis-sentinel "+addr, 15*time.Second, func() error { return redisPing(addr) })
	s.Sentinels = []string{addr}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer sc.Close()
	rc := redis.NewClient(&redis.Options{Addr: s.Replica.Addr})
	defer rc.Close()
	for {
		info, _ := rc.Info(ctx, "replication").Result()
		reps, _ := sc.Replicas(ctx, s.MasterName).Result()
		if strings.Contains(info, "master_link_status:up") && len(reps) == 1 {
			return s
		}
		if ctx.Err() != nil {
			t.Fatalf("testenv: sentinel set-up not ready: replica %q, sentinel knows %d replicas", info, len(reps))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CurrentMaster asks the sentinel which address is the master now.
func (s *RedisSentinel) CurrentMaster(ctx context.Context) (string, error) {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0]})
	defer sc.Close()
	hp, err := sc.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil {
		return "", err
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("sentinel answered %v", hp)
	}
	if _, err := strconv.Atoi(hp[1]); err != nil {
		return "", err
	}
	return hp[0] + ":" + hp[1], nil
}
