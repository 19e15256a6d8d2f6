package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// TestReindex: after Redis lost the customer index, `livery reindex`
// rebuilds it from the object store (through the wired Redis index).
func TestReindex(t *testing.T) {
	dir := t.TempDir()
	addr := testenv.Redis(t)
	path := filepath.Join(dir, "livery.yaml")
	if err := os.WriteFile(path, []byte("redis: {url: \"redis://"+addr+"\"}\n"+
		"store: {driver: dir, dir: {path: "+filepath.Join(dir, "data")+"}}\n"+
		"tenants:\n  - {id: acme, name: {zh: 甲, en: Acme}, hosts: [acme.example], upstream: \"http://127.0.0.1:1\"}\n"+
		"  - {id: beta, name: {zh: 乙, en: Beta}, hosts: [beta.example], upstream: \"http://127.0.0.1:1\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Two customers registered through the object store and the Redis
	// index, as the gateway does; then Redis loses the index.
	store, err := objstore.NewDir(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	customers := tenants.NewCustomers(tenants.CustomerOptions{PhoneLimit: 5, Store: store, Provisioner: tenants.Builtin{},
		Codes: noCodes{}, Index: redisindex.Index{RDB: rdb}, Logger: slog.New(slog.DiscardHandler)})
	for _, x := range []string{"u1", "u2"} {
		if _, err := customers.Create(ctx, "acme", tenants.Registration{XAccountID: x, XAccountType: "acme",
			DomainName: "reindex_" + x, AssociationType: tenants.AssociationResale}, tenants.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	checkRun(t, []string{"reindex", "-config", path}, 0, []string{"tenant acme: 2 customers indexed", "tenant beta: 0 customers indexed"})
	checkRun(t, []string{"reindex", "-config", path, "-tenant", "beta"}, 0, []string{"tenant beta: 0 customers indexed"})
	cs, built, err := redisindex.Index{RDB: rdb}.Load(ctx, "acme")
	if err != nil || !built || len(cs) != 2 {
		t.Fatalf("index of acme: built %v, %d customers (%v); want 2", built, len(cs), err)
	}
}

// noCodes accepts no verification codes (the registrations here send none).
type noCodes struct{}

func (noCodes) Check(context.Context, string, string, string, string) error { return nil }
