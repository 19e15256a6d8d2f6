package redisx

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterReload makes a Cluster client follow a failover. go-redis reloads
// its slot map when a node answers MOVED or ASK, but a master that died
// answers nothing: every command for its slots fails with a dial error
// and the client keeps the stale map, so the promoted replica is never
// asked (measured: writes to the dead master's slots did not resume within
// 30 s). On a network error the hook reloads the map in the background, at
// most once every reloadEvery.
type clusterReload struct {
	cc   *redis.ClusterClient
	last atomic.Int64 // unix ns of the last reload started
}

const reloadEvery = 250 * time.Millisecond

func (r *clusterReload) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *clusterReload) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		r.check(err)
		return err
	}
}

func (r *clusterReload) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		r.check(err)
		return err
	}
}

func (r *clusterReload) check(err error) {
	if !networkError(err) {
		return
	}
	now := time.Now().UnixNano()
	last := r.last.Load()
	if now-last < int64(reloadEvery) || !r.last.CompareAndSwap(last, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.cc.ReloadState(ctx)
	}()
}

// networkError reports whether err means the node could not be reached
// (refused, reset, closed, timed out), not a Redis error answer.
func networkError(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
