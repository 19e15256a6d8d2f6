package testenv

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCluster is a Redis Cluster of real redis-server masters on loopback
// ports, started by StartRedisCluster.
type RedisCluster struct {
	// Addrs are the masters' addresses (seed addresses for a cluster client).
	Addrs []string
	// TLSAddrs are their TLS addresses (StartRedisClusterTLS only).
	TLSAddrs []string
	Nodes    []*RedisServer
}

// StartRedisCluster starts masters redis-server processes in cluster mode,
// splits the 16384 hash slots evenly between them (CLUSTER ADDSLOTSRANGE),
// joins them (CLUSTER MEET) and waits until every node reports
// cluster_state:ok and knows every master. No redis-cli is needed. Any
// failure is fatal for the test; the servers are killed on cleanup.
func StartRedisCluster(t testing.TB, masters int) *RedisCluster {
	t.Helper()
	return startRedisCluster(t, masters, nil)
}

// StartRedisClusterTLS is StartRedisCluster with TLS between clients and
// nodes and on the cluster bus (tls-cluster): TLSAddrs are the nodes'
// TLS addresses, signed by the CA of the returned files. The plain ports
// stay open for the harness's own set-up and probes.
func StartRedisClusterTLS(t testing.TB, masters int) (*RedisCluster, TLSFiles) {
	t.Helper()
	files := NewTLSFiles(t)
	return startRedisCluster(t, masters, &files), files
}

func startRedisCluster(t testing.TB, masters int, tlsFiles *TLSFiles) *RedisCluster {
	t.Helper()
	if masters < 1 {
		t.Fatalf("testenv: a cluster needs at least one master, got %d", masters)
	}
	c := &RedisCluster{}
	for range masters {
		args := []string{"--cluster-enabled", "yes", "--cluster-node-timeout", "2000"}
		var tlsAddr string
		if tlsFiles != nil {
			port := FreePort(t)
			tlsAddr = loopback(port)
			args = append(args, "--tls-port", strconv.Itoa(port), "--tls-cert-file", tlsFiles.Cert, "--tls-key-file", tlsFiles.Key,
				"--tls-ca-cert-file", tlsFiles.CA, "--tls-auth-clients", "no", "--tls-cluster", "yes")
		}
		srv := StartRedis(t, args...)
		c.Nodes = append(c.Nodes, srv)
		c.Addrs = append(c.Addrs, srv.Addr)
		if tlsAddr != "" {
			c.TLSAddrs = append(c.TLSAddrs, tlsAddr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admins := make([]*redis.Client, masters)
	for i, addr := range c.Addrs {
		admins[i] = redis.NewClient(&redis.Options{Addr: addr})
		defer admins[i].Close()
	}
	per := 16384 / masters
	for i, a := range admins {
		lo, hi := i*per, (i+1)*per-1
		if i == masters-1 {
			hi = 16383
		}
		if err := a.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatalf("testenv: cluster: ADDSLOTSRANGE on %s: %v", c.Addrs[i], err)
		}
	}
	meet := c.Addrs // with tls-cluster the bus is the TLS port's + 10000
	if len(c.TLSAddrs) > 0 {
		meet = c.TLSAddrs
	}
	for _, addr := range meet[1:] {
		host, port, _ := strings.Cut(addr, ":")
		p, _ := strconv.Atoi(port)
		if err := admins[0].ClusterMeet(ctx, host, strconv.Itoa(p)).Err(); err != nil {
			t.Fatalf("testenv: cluster: MEET %s: %v", addr, err)
		}
	}
	for {
		err := clusterReady(ctx, admins, masters)
		if err == nil {
			return c
		}
		if ctx.Err() != nil {
			t.Fatalf("testenv: cluster of %d did not become ready: %v", masters, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func clusterReady(ctx context.Context, admins []*redis.Client, masters int) error {
	for _, a := range admins {
		info, err := a.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(masters)) {
			return fmt.Errorf("%s: not ready yet", a.Options().Addr)
		}
		slots, err := a.ClusterSlots(ctx).Result()
		if err != nil {
			return err
		}
		if len(slots) != masters {
			return fmt.Errorf("%s knows %d slot ranges, want %d", a.Options().Addr, len(slots), masters)
		}
	}
	return nil
}

// AddReplicas starts one replica for each master (cluster mode, joined
// with CLUSTER MEET, attached with CLUSTER REPLICATE) and waits until every
// master reports a connected replica, so that killing a master fails over
// to its replica after the node timeout (2 s). Any failure is fatal.
func (c *RedisCluster) AddReplicas(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seed := redis.NewClient(&redis.Options{Addr: c.Addrs[0]})
	defer seed.Close()
	masters := append([]string(nil), c.Addrs...)
	for _, maddr := range masters {
		m := redis.NewClient(&redis.Options{Addr: maddr})
		id, err := m.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			m.Close()
			t.Fatalf("testenv: cluster: MYID of %s: %v", maddr, err)
		}
		srv := StartRedis(t, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000")
		r := redis.NewClient(&redis.Options{Addr: srv.Addr})
		host, port, _ := strings.Cut(maddr, ":")
		if err := r.ClusterMeet(ctx, host, port).Err(); err != nil {
			t.Fatalf("testenv: cluster: MEET from %s: %v", srv.Addr, err)
		}
		for { // the replica must know the master before it can follow it
			err := r.Do(ctx, "CLUSTER", "REPLICATE", id).Err()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("testenv: cluster: REPLICATE on %s: %v", srv.Addr, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for {
			info, _ := m.Info(ctx, "replication").Result()
			if strings.Contains(info, "connected_slaves:1") && strings.Contains(info, "state=online") {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("testenv: cluster: the replica of %s did not sync: %s", maddr, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		r.Close()
		m.Close()
		c.Nodes = append(c.Nodes, srv)
		c.Addrs = append(c.Addrs, srv.Addr)
	}
}

// Client returns a cluster client on c; hooks, when given, are added to it
// (e.g. a CROSSSLOT detector). It is closed on cleanup.
func (c *RedisCluster) Client(t testing.TB, hooks ...redis.Hook) *redis.ClusterClient {
	t.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	for _, h := range hooks {
		cc.AddHook(h)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// SlotGuard is a go-redis hook that records every command error a Redis
// Cluster answers because keys of one command (or one transaction) hash to
// different slots (CROSSSLOT) or live on another node (MOVED/ASK left to
// the caller): add it to a cluster client and Check at the end. Safe for
// concurrent use.
type SlotGuard struct {
	mu   sync.Mutex
	errs []string
}

func (g *SlotGuard) record(cmd redis.Cmder) {
	if err := cmd.Err(); err != nil && strings.Contains(err.Error(), "CROSSSLOT") {
		g.mu.Lock()
		g.errs = append(g.errs, fmt.Sprintf("%v: %v", cmd.Args(), err))
		g.mu.Unlock()
	}
}

func (g *SlotGuard) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g *SlotGuard) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		g.record(cmd)
		return err
	}
}

func (g *SlotGuard) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			g.record(c)
		}
		return err
	}
}

// Check fails the test for every CROSSSLOT error recorded.
func (g *SlotGuard) Check(t testing.TB) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range g.errs {
		t.Errorf("CROSSSLOT: %s", e)
	}
}
