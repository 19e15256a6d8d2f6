package tenants_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// TestIndexRepairAfterRedisRefusal: real Redis refuses the index write
// (ACL: the app's user may not HSET) while the registration succeeds; the
// customer is then missing from List. Once the refusal is lifted the
// repairer indexes it on its own, without a retry of the request or a
// reindex, and its durable to-do is removed. The repairer stops with its
// context.
func TestIndexRepairAfterRedisRefusal(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	admin, err := redisx.Open(ctx, redisx.Options{URL: "redis://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-secret", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	app, err := redisx.Open(ctx, redisx.Options{URL: "redis://" + addr, Username: "app", Password: "app-secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	m := testenv.StartMinIO(t)
	store, err := objstore.NewS3(ctx, objstore.S3Config{Endpoint: m.Endpoint, Bucket: m.NewBucket(t),
		AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := tenants.NewCustomers(tenants.CustomerOptions{Store: store, Provisioner: tenants.Builtin{}, Codes: &fakeCodes{},
		Index: redisindex.Index{RDB: app}, PhoneLimit: 2, Logger: slog.New(slog.DiscardHandler)})
	findable := func() bool {
		t.Helper()
		list, _, err := s.List(ctx, "ta", tenants.Query{AccountName: "repair_me"})
		if err != nil {
			t.Fatal(err)
		}
		return len(list) == 1
	}
	if findable() { // builds the (empty) index
		t.Fatal("found before registration")
	}
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); s.RunIndexRepair(runCtx) }()
	defer func() { stop(); <-stopped }()

	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "-hset").Err(); err != nil {
		t.Fatal(err)
	}
	c, err := s.Create(ctx, "ta", reg("repair-1", "repair_me", ""), tenants.Meta{})
	if err != nil || c.State != tenants.StateActive {
		t.Fatalf("create with the index refused: %+v %v", c, err)
	}
	if findable() {
		t.Fatal("indexed although Redis refused HSET: the test does not test anything")
	}
	marker := tenants.RepairKey(tenants.CustomerKey("ta", "plat_1", "repair-1"))
	if _, err := store.Stat(ctx, marker); err != nil {
		t.Fatalf("no durable repair marker: %v", err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "+hset").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !findable() {
		if time.Now().After(deadline) {
			t.Fatal("customer still missing from the index 15 s after Redis accepted HSET again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		if _, err := store.Stat(ctx, marker); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("repair marker not removed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("repairer did not stop with its context")
	}
}
