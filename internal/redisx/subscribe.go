package redisx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Handlers are a Subscriber's callbacks; nil ones are skipped. They run on
// the Subscriber's goroutine, one at a time, and never after Close has
// returned. A handler that blocks delays the messages after it and the
// connection's health check: hand long work to another goroutine.
type Handlers struct {
	// OnSubscribed runs after every subscription, the first and each one
	// after a reconnection, before any message it delivers. Messages
	// published while unsubscribed are lost: drop or refresh here whatever
	// they would have changed.
	OnSubscribed func()
	// OnMessage runs for every message published on the channel.
	OnMessage func(payload string)
	// OnError runs for every failed subscription attempt and every
	// subscription that broke (for metrics: the Subscriber logs them).
	OnError func(err error)
}

// backoff is the retry schedule: the n-th consecutive failure waits a
// random time in [d/2, d], d = min(max, min·2^(n-1)). The count restarts
// once a subscription has held for healthy; health is how long the
// subscription may stay silent before it is pinged.
type backoff struct {
	min, max, healthy, health time.Duration
}

var defaultBackoff = backoff{
	min:     100 * time.Millisecond,
	max:     5 * time.Second,
	healthy: time.Second,
	health:  15 * time.Second,
}

// delay is the wait after the n-th consecutive failure (n ≥ 1).
func (b backoff) delay(n int) time.Duration {
	d := b.max
	if n <= 30 { // beyond, the shift overflows: the cap applies anyway
		d = min(b.max, b.min<<(n-1))
	}
	return d/2 + rand.N(d/2+1)
}

// Subscriber keeps one Redis pub/sub channel subscribed: it resubscribes
// whenever the subscription breaks (the server restarted, the connection was
// killed or went silent), with exponential backoff and jitter, until its
// context ends or Close is called. It works with every redis.UniversalClient
// (standalone, the embedded server, Redis Cluster). Safe for concurrent use.
type Subscriber struct {
	rdb     redis.UniversalClient
	channel string
	h       Handlers
	log     *slog.Logger
	b       backoff

	up        atomic.Bool
	first     chan struct{} // closed at the first subscription
	firstOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{}
}

// Subscribe subscribes to channel in the background and returns at once;
// see Subscribed to wait for the subscription. It keeps resubscribing until
// ctx ends or Close is called. log (nil: slog.Default()) gets the state
// changes: the first failure of an outage at warn, the retries after it at
// debug, the recovery at info.
func Subscribe(ctx context.Context, rdb redis.UniversalClient, channel string, h Handlers, log *slog.Logger) *Subscriber {
	return subscribe(ctx, rdb, channel, h, log, defaultBackoff)
}

func subscribe(ctx context.Context, rdb redis.UniversalClient, channel string, h Handlers, log *slog.Logger, b backoff) *Subscriber {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Subscriber{rdb: rdb, channel: channel, h: h, log: log.With("channel", channel), b: b,
		first: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go s.run(ctx)
	return s
}

// Ready reports whether the channel is subscribed right now (for readiness
// checks): messages published now will be delivered.
func (s *Subscriber) Ready() bool { return s.up.Load() }

// Subscribed is closed once the channel has been subscribed for the first
// time and OnSubscribed has returned; it stays closed across later outages
// (see Ready).
func (s *Subscriber) Subscribed() <-chan struct{} { return s.first }

// Close stops the Subscriber and waits until its goroutine has returned
// (an attempt in progress against a hung server may hold it up to the
// client's dial and read timeouts). Calling it again does nothing.
func (s *Subscriber) Close() {
	s.cancel()
	<-s.done
}

// errUnsubscribed: the server ended the subscription without an error.
var errUnsubscribed = errors.New("redis pubsub: unsubscribed by the server")

// outage is the run goroutine's view of the current outage.
type outage struct {
	since time.Time // zero: not in an outage (subscribed, or not yet tried)
	tries int       // failed attempts in this outage
}

// run subscribes until ctx ends, waiting out the backoff between attempts.
func (s *Subscriber) run(ctx context.Context) {
	defer close(s.done)
	defer s.up.Store(false)
	failures := 0 // consecutive failures since the last healthy subscription
	var out outage
	for {
		upAt, err := s.attempt(ctx, &out)
		if ctx.Err() != nil {
			return
		}
		s.up.Store(false)
		if s.h.OnError != nil {
			s.h.OnError(err)
		}
		if !upAt.IsZero() && time.Since(upAt) >= s.b.healthy {
			failures = 0
		}
		failures++
		out.tries++
		wait := s.b.delay(failures)
		switch {
		case !upAt.IsZero():
			out.since = time.Now()
			s.log.Warn("redis pubsub: subscription lost; resubscribing", "err", err, "retry_in", wait)
		case out.since.IsZero(): // the first attempt failed
			out.since = time.Now()
			s.log.Warn("redis pubsub: cannot subscribe; retrying", "err", err, "retry_in", wait)
		default:
			s.log.Debug("redis pubsub: resubscribing failed", "err", err, "attempt", out.tries, "retry_in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// attempt runs one subscription until it breaks and returns the error and
// when it was confirmed (zero: never). Once confirmed it logs the end of
// the outage, if any, and resets it.
func (s *Subscriber) attempt(ctx context.Context, out *outage) (upAt time.Time, err error) {
	ps := s.rdb.Subscribe(ctx) // no channel yet: no I/O, so the error below is the dial's
	defer ps.Close()
	// A blocked read does not watch ctx; closing the PubSub unblocks it.
	defer context.AfterFunc(ctx, func() { ps.Close() })()
	if err := ps.Subscribe(ctx, s.channel); err != nil {
		return upAt, err
	}
	pinged := false // a health ping is outstanding
	for {
		msg, err := ps.ReceiveTimeout(ctx, s.b.health)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged && ctx.Err() == nil {
				// Silent for a while: a ping answered proves the connection.
				if err = ps.Ping(ctx); err == nil {
					pinged = true
					continue
				}
			}
			return upAt, err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Channel != s.channel {
				continue
			}
			if m.Kind != "subscribe" {
				return upAt, fmt.Errorf("%w (%s)", errUnsubscribed, m.Kind)
			}
			upAt = time.Now()
			if s.h.OnSubscribed != nil {
				s.h.OnSubscribed()
			}
			s.up.Store(true)
			if out.since.IsZero() {
				s.log.Debug("redis pubsub: subscribed")
			} else {
				s.log.Info("redis pubsub: subscribed again", "attempts", out.tries+1,
					"down_for", upAt.Sub(out.since).Round(time.Millisecond))
			}
			*out = outage{}
			s.firstOnce.Do(func() { close(s.first) })
		case *redis.Message:
			if s.h.OnMessage != nil {
				s.h.OnMessage(m.Payload)
			}
		}
	}
}
