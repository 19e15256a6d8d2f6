package objstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
)

const (
	childEnv       = "LIVERY_OBJSTORE_CHILD_ROOT"
	childProcs     = 8
	childIncrement = 25
)

// TestDirCrossProcess re-executes the test binary as several child
// processes sharing one Dir root: exactly one create-only Put of the same
// key must win, and concurrent CAS increments must not lose updates.
func TestDirCrossProcess(t *testing.T) {
	root := t.TempDir()
	if _, err := objstore.NewDir(root); err != nil {
		t.Fatal(err)
	}
	start := filepath.Join(t.TempDir(), "go")
	cmds := make([]*exec.Cmd, childProcs)
	outs := make([]*strings.Builder, childProcs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDirCrossProcessChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+root, "LIVERY_OBJSTORE_CHILD_ID="+strconv.Itoa(i),
			"LIVERY_OBJSTORE_CHILD_START="+start)
		outs[i] = &strings.Builder{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting child %d: %v", i, err)
		}
		cmds[i] = cmd
	}
	// Release all children at once for maximum contention.
	if err := os.WriteFile(start, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wins := 0
	for i, cmd := range cmds {
		err := cmd.Wait()
		out := outs[i].String()
		if err != nil {
			t.Fatalf("child %d failed: %v\n%s", i, err, out)
		}
		switch {
		case strings.Contains(out, "CHILD-RESULT win"):
			wins++
		case strings.Contains(out, "CHILD-RESULT lose"):
		default:
			t.Fatalf("child %d printed no result (did -test.run match?):\n%s", i, out)
		}
	}
	if wins != 1 {
		t.Fatalf("%d children won the create-only race, want exactly 1", wins)
	}
	d, _ := objstore.NewDir(root)
	b, _, err := objstore.GetBytes(context.Background(), d, "shared/counter")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(childProcs * childIncrement); string(b) != want {
		t.Fatalf("counter = %s, want %s (lost update across processes)", b, want)
	}
}

// TestDirCrossProcessChild is the child half of TestDirCrossProcess; it
// does nothing unless started by it.
func TestDirCrossProcessChild(t *testing.T) {
	root := os.Getenv(childEnv)
	if root == "" {
		return // not a child: nothing to do
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := objstore.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	start := os.Getenv("LIVERY_OBJSTORE_CHILD_START")
	for {
		if _, err := os.Stat(start); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("start signal never came")
		}
		time.Sleep(time.Millisecond)
	}
	id := os.Getenv("LIVERY_OBJSTORE_CHILD_ID")
	_, err = objstore.PutBytes(ctx, d, "shared/owner", []byte(id), objstore.PutOptions{IfNoneMatch: true})
	result := "win"
	if errors.Is(err, objstore.ErrPreconditionFailed) {
		result = "lose"
	} else if err != nil {
		t.Fatalf("create-only: %v", err)
	}
	for range childIncrement {
		if err := objstoretest.IncrementCounter(ctx, d, "shared/counter"); err != nil {
			t.Fatalf("increment: %v", err)
		}
	}
	fmt.Println("CHILD-RESULT", result)
}
