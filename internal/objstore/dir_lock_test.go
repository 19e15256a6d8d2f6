package objstore

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// A key lock held elsewhere (another process, or a stuck writer) costs a
// Put or Delete its deadline, not forever.
func TestDirLockWaitHonoursDeadline(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(d.lockPath("k"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	s := WithTimeout(d, 300*time.Millisecond)
	for name, call := range map[string]func() error{
		"Put":    func() error { _, err := PutBytes(context.Background(), s, "k", []byte("v"), PutOptions{}); return err },
		"Delete": func() error { return s.Delete(context.Background(), "k") },
	} {
		start := time.Now()
		err := call()
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s while the key is locked: err = %v; want ErrUnavailable and DeadlineExceeded", name, err)
		}
		if elapsed := time.Since(start); elapsed > 4*s.Timeout() {
			t.Errorf("%s returned after %s", name, elapsed)
		}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if _, err := PutBytes(context.Background(), s, "k", []byte("v"), PutOptions{}); err != nil {
		t.Fatalf("Put after the lock was released: %v", err)
	}
}
