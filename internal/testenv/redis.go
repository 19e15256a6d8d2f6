package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const redisInstallHint = "install it with `apt-get install -y redis-server` (or `brew install redis`), " +
	"or point $LIVERY_REDIS_SERVER at a redis-server binary"

// RedisBinary returns the redis-server binary to use: $LIVERY_REDIS_SERVER if
// set, else redis-server on $PATH. It returns an error mentioning how to
// install it when neither exists.
func RedisBinary() (string, error) {
	if p := os.Getenv("LIVERY_REDIS_SERVER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("testenv: $LIVERY_REDIS_SERVER=%q: %w; %s", p, err, redisInstallHint)
		}
		return p, nil
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("testenv: redis-server not found on PATH; %s", redisInstallHint)
	}
	return p, nil
}

// Redis starts a throw-away redis-server on a free loopback port (no
// persistence, working dir in t.TempDir()), waits until it answers PING and
// returns its "127.0.0.1:port" address. The server is killed on cleanup.
// Any failure is fatal for the test.
func Redis(t testing.TB) string {
	t.Helper()
	return StartRedis(t).Addr
}

// RedisServer is a redis-server started by StartRedis, which a test may stop
// and start again on the same address (to test reconnection).
type RedisServer struct {
	Addr string

	t    testing.TB
	bin  string
	args []string
	p    *process
}

// StartRedis is Redis returning the server, with extra redis-server
// arguments appended (e.g. "--cluster-enabled", "yes"). Any failure is fatal
// for the test.
func StartRedis(t testing.TB, extra ...string) *RedisServer {
	t.Helper()
	bin, err := RedisBinary()
	if err != nil {
		t.Fatalf("%v", err)
	}
	port := FreePort(t)
	args := append([]string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", t.TempDir(),
	}, extra...)
	r := &RedisServer{Addr: loopback(port), t: t, bin: bin, args: args}
	r.Start()
	return r
}

// Stop kills the server (SIGKILL) and waits for it to exit; its data is
// lost. Stopping a stopped server does nothing.
func (r *RedisServer) Stop() {
	if r.p != nil {
		r.p.stop()
		r.p = nil
	}
}

// Start starts a stopped server again on the same address and waits until
// it answers PING (empty: nothing is persisted). Starting a running server
// does nothing. Any failure is fatal for the test.
func (r *RedisServer) Start() {
	r.t.Helper()
	if r.p != nil {
		return
	}
	r.p = startProcess(r.t, "redis-server", exec.Command(r.bin, r.args...))
	r.p.waitReady(r.t, "redis-server "+r.Addr, 15*time.Second, func() error { return redisPing(r.Addr) })
}

// redisPing sends an inline PING and expects +PONG.
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return errors.New("unexpected PING reply " + strconv.Quote(line))
	}
	return nil
}
