// Package testenv starts real backing servers (redis-server, MinIO) for
// tests. Every server listens on a free loopback port, keeps its state in a
// per-test temporary directory and is stopped with t.Cleanup.
//
// Missing binaries and servers that fail to start are test failures
// (t.Fatalf with install instructions), never skips: the integration tests
// are part of the contract.
package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. It
// listens on 127.0.0.1:0, closes the listener and returns the port, so there
// is a small window in which another process could take it.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: cannot find a free loopback port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("testenv: closing port probe: %v", err)
	}
	return port
}

// randomHex returns n random bytes hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// tailBuffer is a goroutine-safe buffer that captures a child's output.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Tail returns at most the last n bytes written.
func (b *tailBuffer) Tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.Bytes()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return string(s)
}

// process is a started server child.
type process struct {
	cmd    *exec.Cmd
	out    *tailBuffer
	exited chan struct{}
	err    error // valid after exited is closed
}

// startProcess starts cmd with stdout/stderr captured and registers a
// cleanup that kills it and waits for it to exit.
func startProcess(t testing.TB, name string, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, out: &tailBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	// Own process group, so a stray signal to the test does not race us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: starting %s (%s): %v", name, cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop kills the process (SIGKILL) and waits for it to exit.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// waitReady polls ready every 50ms until it returns nil, the process exits
// or timeout passes; on failure it calls t.Fatalf with the output tail.
func (p *process) waitReady(t testing.TB, name string, timeout time.Duration, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if last = ready(); last == nil {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("testenv: %s exited before becoming ready: %v\n--- output tail ---\n%s", name, p.err, p.out.Tail(4096))
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			t.Fatalf("testenv: %s not ready after %s: %v\n--- output tail ---\n%s", name, timeout, last, p.out.Tail(4096))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// Within polls fn every 10 ms for up to d and returns how long it took to
// succeed; otherwise the test fails with what and fn's last error. For
// "live on another instance within 1 s" checks.
func Within(t testing.TB, d time.Duration, what string, fn func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := fn()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s: %v", what, d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
