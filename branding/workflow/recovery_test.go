package workflow_test

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/livery/livery/branding/workflow"
)

// These tests inject a store failure between two steps of an approval (as
// if the process died there) and check that the next call completes the
// decision exactly once.
var recoveryTests = []testCase{
	{"crash before the version is written", testCrashBeforeVersion},
	{"crash between version and live swap", testCrashBeforeLiveSwap},
	{"recovery never undoes a rollback", testRecoveryAfterRollback},
	{"a late live swap never undoes a rollback", testLateSwapAfterRollback},
}

func testCrashBeforeVersion(t *testing.T, e *env) {
	s := e.submit(t, tenant, validDoc("#111111"))
	e.store.failNextPuts("versions/", 1)
	if _, err := e.svc.Approve(e.ctx, tenant, s.ID, operator, ""); !errors.Is(err, errInjected) {
		t.Fatalf("Approve with failing store = %v; want the injected error", err)
	}
	if vs, _ := e.svc.Versions(e.ctx, tenant); len(vs) != 0 || e.liveNumber(t, tenant) != 0 {
		t.Fatalf("after the crash: %d versions, live %d; want none", len(vs), e.liveNumber(t, tenant))
	}
	// The decision stands: the submission is no longer pending to readers.
	if _, err := e.svc.Pending(e.ctx, tenant); !errors.Is(err, workflow.ErrNoPending) {
		t.Fatalf("Pending after the decision = %v; want ErrNoPending", err)
	}
	// A retry (or any other mutating call) completes it.
	if _, err := e.svc.Approve(e.ctx, tenant, s.ID, op2, ""); !errors.Is(err, workflow.ErrStale) {
		t.Fatalf("retried Approve = %v; want ErrStale (already decided)", err)
	}
	vs, err := e.svc.Versions(e.ctx, tenant)
	if err != nil || len(vs) != 1 || vs[0].ApprovedBy.User != operator.User || e.liveNumber(t, tenant) != 1 {
		t.Fatalf("after recovery: %+v, %v, live %d; want version 1 by %s, live", vs, err, e.liveNumber(t, tenant), operator.User)
	}
	if c := count(e.events(t, tenant), workflow.EventApprove); c != 1 {
		t.Fatalf("%d approve records; want 1", c)
	}
	if _, err := e.svc.Submit(e.ctx, tenant, partner); err != nil {
		t.Fatalf("Submit after recovery: %v", err)
	}
}

func testCrashBeforeLiveSwap(t *testing.T, e *env) {
	s := e.submit(t, tenant, validDoc("#111111"))
	e.store.failNextPuts("live/", 1)
	if _, err := e.svc.Approve(e.ctx, tenant, s.ID, operator, ""); !errors.Is(err, errInjected) {
		t.Fatalf("Approve = %v; want the injected error", err)
	}
	if vs, _ := e.svc.Versions(e.ctx, tenant); len(vs) != 1 || e.liveNumber(t, tenant) != 0 {
		t.Fatalf("after the crash: %d versions, live %d; want an orphan version 1, nothing live", len(vs), e.liveNumber(t, tenant))
	}
	if len(e.notified.list()) != 0 {
		t.Fatal("notified before the live swap")
	}
	// The partner's next submit completes the approval first.
	e.saveDraft(t, tenant, validDoc("#222222"))
	s2, err := e.svc.Submit(e.ctx, tenant, partner)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if e.liveNumber(t, tenant) != 1 || !slices.Equal(e.notified.list(), []string{"acme@1"}) {
		t.Fatalf("live %d, notified %v after recovery; want 1, [acme@1]", e.liveNumber(t, tenant), e.notified.list())
	}
	v2, err := e.svc.Approve(e.ctx, tenant, s2.ID, operator, "")
	if err != nil || v2.Number != 2 {
		t.Fatalf("next approval = %+v, %v; want version 2", v2, err)
	}
}

func testRecoveryAfterRollback(t *testing.T, e *env) {
	e.publish(t, tenant, validDoc("#111111"))
	s2 := e.submit(t, tenant, validDoc("#222222"))
	// Crash after the live swap, before the pending pointer is cleared.
	e.store.failNextPuts("pending/", 1)
	if _, err := e.svc.Approve(e.ctx, tenant, s2.ID, operator, ""); !errors.Is(err, errInjected) {
		t.Fatalf("Approve = %v; want the injected error", err)
	}
	if e.liveNumber(t, tenant) != 2 {
		t.Fatalf("live = %d; want 2 (swapped before the crash)", e.liveNumber(t, tenant))
	}
	// The rollback completes the interrupted approval first, then rolls back.
	if _, err := e.svc.Rollback(e.ctx, tenant, 1, op2, "v2 broke the menu"); err != nil {
		t.Fatal(err)
	}
	// Later calls find nothing to complete and must not republish 2.
	if _, err := e.svc.Submit(e.ctx, tenant, partner); err != nil {
		t.Fatal(err)
	}
	if n := e.liveNumber(t, tenant); n != 1 {
		t.Fatalf("live = %d after rollback and a later submit; want 1", n)
	}
	if vs, _ := e.svc.Versions(e.ctx, tenant); len(vs) != 2 {
		t.Fatalf("%d versions; want 2", len(vs))
	}
}

func testLateSwapAfterRollback(t *testing.T, e *env) {
	e.publish(t, tenant, validDoc("#111111"))
	s2 := e.submit(t, tenant, validDoc("#222222"))
	// Pause the approval just before its live swap; meanwhile another
	// operator's rollback completes the approval and rolls back to 1.
	var paused atomic.Bool
	e.store.setHook(func(key string) {
		if strings.HasPrefix(key, "live/") && paused.CompareAndSwap(false, true) {
			if _, err := e.svc.Rollback(e.ctx, tenant, 1, op2, "v2 broke the menu"); err != nil {
				t.Errorf("Rollback during the approval: %v", err)
			}
		}
	})
	v, err := e.svc.Approve(e.ctx, tenant, s2.ID, operator, "")
	e.store.setHook(nil)
	if err != nil || v.Number != 2 {
		t.Fatalf("Approve = %+v, %v; want version 2", v, err)
	}
	if !paused.Load() {
		t.Fatal("hook never ran")
	}
	if n := e.liveNumber(t, tenant); n != 1 {
		t.Fatalf("live = %d; want 1 (the rollback came after the approval went live)", n)
	}
	if c := count(e.events(t, tenant), workflow.EventApprove); c != 2 {
		t.Fatalf("%d approve records; want 2 (v1 and v2, each once)", c)
	}
}
