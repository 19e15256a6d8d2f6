package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const minioInstallHint = "install it with `go install github.com/minio/minio@latest` and copy/link the binary to " +
	"$HOME/.cache/livery/bin/minio (or put `minio` on PATH, or set $LIVERY_MINIO to its path); " +
	"a release binary from https://dl.min.io/server/minio/release/ works too"

// MinIOBinary returns the minio server binary to use: $LIVERY_MINIO if set,
// else minio on $PATH, else $XDG_CACHE_HOME/livery/bin/minio, else
// $HOME/.cache/livery/bin/minio. It returns an error with install
// instructions when none exists.
func MinIOBinary() (string, error) {
	if p := os.Getenv("LIVERY_MINIO"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("testenv: $LIVERY_MINIO=%q: %w; %s", p, err, minioInstallHint)
		}
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	var candidates []string
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		candidates = append(candidates, filepath.Join(x, "livery", "bin", "minio"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(h, ".cache", "livery", "bin", "minio"))
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("testenv: minio server binary not found (looked at $LIVERY_MINIO, PATH, %v); %s", candidates, minioInstallHint)
}

// MinIO describes a running test MinIO server. Endpoint is "host:port"
// without scheme (plain HTTP), as minio-go expects.
type MinIO struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	s         *minioServer
}

// minioServer is the running process and how to start it again.
type minioServer struct {
	proc      *process
	bin, data string
	console   string
}

// StartMinIO starts a single-drive MinIO server with random root
// credentials on free loopback ports, data in t.TempDir(), and waits (up to
// 60 s) for /minio/health/live to return 200. The server is killed on
// cleanup. It also waits until an authenticated ListBuckets succeeds,
// because MinIO reports "live" before its object layer is ready. Any failure is fatal for the test.
func StartMinIO(t testing.TB) MinIO {
	t.Helper()
	bin, err := MinIOBinary()
	if err != nil {
		t.Fatalf("%v", err)
	}
	m := MinIO{
		Endpoint:  loopback(FreePort(t)),
		AccessKey: "livery" + randomHex(6),
		SecretKey: randomHex(20),
		s:         &minioServer{bin: bin, data: t.TempDir(), console: loopback(FreePort(t))},
	}
	m.start(t)
	return m
}

// start runs the server on m's address and data directory and waits until
// it serves S3 calls.
func (m MinIO) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command(m.s.bin, "server", m.s.data,
		"--address", m.Endpoint,
		"--console-address", m.s.console,
		"--quiet",
	)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
	)
	p := startProcess(t, "minio", cmd)
	m.s.proc = p
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + m.Endpoint + "/minio/health/live"
	mc := m.Client(t)
	p.waitReady(t, "minio "+m.Endpoint, 60*time.Second, func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		// "live" is answered before the object layer is initialised
		// ("Server not initialized yet"); wait for a real S3 call to work.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err = mc.ListBuckets(ctx)
		return err
	})
}

// Restart starts a stopped server again on the same address with the same
// data (what it stored is still there). Failure is fatal.
func (m MinIO) Restart(t testing.TB) {
	t.Helper()
	m.s.proc.stop()
	m.start(t)
}

// Client returns a minio-go client for the server. Failure is fatal.
func (m MinIO) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(m.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""),
		Secure: false,
	})
	if err != nil {
		t.Fatalf("testenv: minio client for %s: %v", m.Endpoint, err)
	}
	return c
}

// NewBucket creates a fresh, randomly named bucket and returns its name.
// Failure is fatal. The bucket is not removed: the server's data directory
// is a temp dir that goes away with the test.
func (m MinIO) NewBucket(t testing.TB) string {
	t.Helper()
	name := "livery-test-" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Client(t).MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("testenv: creating bucket %s on %s: %v", name, m.Endpoint, err)
	}
	return name
}

// Freeze stops the server process with SIGSTOP: its port stays open and
// connections stay up, but nothing answers, like a hung server or a
// partitioned network. It is thawed again (SIGCONT) by Thaw and always on
// cleanup, registered here so that it runs before the server is killed.
// Failure is fatal.
func (m MinIO) Freeze(t testing.TB) {
	t.Helper()
	if err := m.s.proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("testenv: freezing minio %s: %v", m.Endpoint, err)
	}
	t.Cleanup(func() { _ = m.s.proc.cmd.Process.Signal(syscall.SIGCONT) })
	// The signal is delivered asynchronously: a thread running on another
	// core goes on until its next trip into the kernel, long enough to
	// answer a request. Wait until every thread is stopped.
	deadline := time.Now().Add(5 * time.Second)
	for !allThreadsStopped(m.s.proc.cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: minio %s did not stop within 5s of SIGSTOP", m.Endpoint)
		}
		time.Sleep(time.Millisecond)
	}
}

// allThreadsStopped reports whether every thread of pid is in the stopped
// state ("T" in /proc/<pid>/task/<tid>/stat).
func allThreadsStopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			return false
		}
		// The state follows the parenthesised command name.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// Thaw resumes a frozen server (SIGCONT). Failure is fatal.
func (m MinIO) Thaw(t testing.TB) {
	t.Helper()
	if err := m.s.proc.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("testenv: thawing minio %s: %v", m.Endpoint, err)
	}
}

// Stop kills the server and waits for it to exit: afterwards connections
// to Endpoint are refused.
func (m MinIO) Stop() { m.s.proc.stop() }
