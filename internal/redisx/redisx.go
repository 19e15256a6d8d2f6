// Package redisx connects Livery to Redis: a standalone server from a URL,
// a Redis Cluster from seed addresses, or — the embedded default — an
// in-process Redis-protocol server on loopback. All three are used through
// the same go-redis client interface, so there is one code path. Subscribe
// keeps a pub/sub channel subscribed across reconnections (the one loop the
// session cache and the live-branding cache use).
package redisx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Options selects the deployment. With neither URL nor Addrs set, Open
// starts the embedded server.
type Options struct {
	URL   string   // redis://[user@]host:port/db, rediss://..., unix://...
	Addrs []string // Redis Cluster seed addresses
	// MasterName and SentinelAddrs select Redis Sentinel (a failover
	// client that follows the sentinels' current master).
	MasterName    string
	SentinelAddrs []string
	// TLS turns TLS on for Addrs and SentinelAddrs (a rediss:// URL has
	// it); RootCAs, when set, replaces the system's trusted CAs (any mode).
	TLS      bool
	RootCAs  *x509.CertPool
	Username string
	Password string
	// Metrics, when set, times and counts every command (see Metrics).
	Metrics *Metrics
}

// Conn is an open Redis connection and whatever must be closed with it.
type Conn struct {
	redis.UniversalClient
	// Embedded is the in-process server, nil when talking to a real Redis.
	Embedded *miniredis.Miniredis
	// Mode is "embedded", "standalone", "cluster" or "sentinel", for logs.
	Mode string

	stopClock chan struct{}
	closeOnce sync.Once
}

// Close closes the client and stops the embedded server, if any. Calling
// it again does nothing.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		err = c.UniversalClient.Close()
		if c.Embedded != nil {
			close(c.stopClock)
			c.Embedded.Close()
		}
	})
	return err
}

// clockTick is how often the embedded server's key expiry catches up with
// the wall clock.
const clockTick = 50 * time.Millisecond

// runClock advances the embedded server's TTL clock in real time: miniredis
// only expires keys when told that time has passed, and Livery relies on
// expiry (sessions, codes, rate-limit buckets) exactly as with real Redis.
func runClock(srv *miniredis.Miniredis, stop <-chan struct{}) {
	t := time.NewTicker(clockTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			srv.FastForward(now.Sub(last))
			last = now
		}
	}
}

// tlsConfig is the TLS of Addrs and SentinelAddrs: nil without TLS.
func (o Options) tlsConfig() *tls.Config {
	if !o.TLS {
		return nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.RootCAs}
}

// Open connects and pings Redis. An unparsable URL, an unreachable server or
// a failed embedded start is returned as an error; the password never
// appears in it.
func Open(ctx context.Context, o Options) (*Conn, error) {
	c := &Conn{}
	switch {
	case o.URL != "":
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("redis: invalid url: %w", err)
		}
		if o.Username != "" {
			opt.Username = o.Username
		}
		if o.Password != "" {
			opt.Password = o.Password
		}
		if opt.TLSConfig != nil && o.RootCAs != nil {
			opt.TLSConfig.RootCAs = o.RootCAs
		}
		c.UniversalClient, c.Mode = redis.NewClient(opt), "standalone"
	case len(o.Addrs) > 0:
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: o.Addrs, Username: o.Username, Password: o.Password, TLSConfig: o.tlsConfig(),
		})
		cc.AddHook(&clusterReload{cc: cc}) // follow a failover (see clusterReload)
		c.UniversalClient, c.Mode = cc, "cluster"
	case len(o.SentinelAddrs) > 0:
		c.UniversalClient = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: o.MasterName, SentinelAddrs: o.SentinelAddrs,
			Username: o.Username, Password: o.Password, TLSConfig: o.tlsConfig(),
		})
		c.Mode = "sentinel"
	default:
		srv, err := miniredis.Run() // listens on 127.0.0.1:<free>
		if err != nil {
			return nil, fmt.Errorf("redis: start embedded server: %w", err)
		}
		c.Embedded, c.stopClock = srv, make(chan struct{})
		go runClock(srv, c.stopClock)
		c.UniversalClient = redis.NewClient(&redis.Options{Addr: srv.Addr()})
		c.Mode = "embedded"
	}
	if o.Metrics != nil {
		c.AddHook(o.Metrics)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis (%s): ping: %w", c.Mode, err)
	}
	return c, nil
}
