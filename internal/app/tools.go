package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/records"
)

// OpenCredentials opens the partner access keys of cfg's object store,
// without Redis (`livery keys`). Errors name the dependency that failed.
func OpenCredentials(ctx context.Context, cfg *config.Config, log *slog.Logger) (*tenants.Credentials, error) {
	store, err := openStore(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	key, err := masterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	return tenants.NewCredentials(store, key, 0)
}

// Reindex rebuilds the Redis customer index from the object store for
// every tenant (the file's and those created at runtime), or only the tenant named by only, calling done with
// each tenant's count (`livery reindex`). It stops at the first error,
// which names the tenant ("tenant acme: ...") or the dependency. progress,
// when not nil, is told of each customer record read (see
// tenants.Customers.ReindexProgress).
func Reindex(ctx context.Context, cfg *config.Config, log *slog.Logger, only string, done func(tenant string, n int),
	progress func(tenant string, read, total int)) error {
	svc, err := openServices(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer svc.Close()
	for _, t := range svc.tenants.All() {
		if only != "" && t.ID != only {
			continue
		}
		var p func(read, total int)
		if progress != nil {
			id := t.ID
			p = func(read, total int) { progress(id, read, total) }
		}
		n, err := svc.customers.ReindexProgress(ctx, t.ID, p)
		if err != nil {
			return fmt.Errorf("tenant %s: %w", t.ID, err)
		}
		done(t.ID, n)
	}
	return nil
}

// OpenStore opens the object store c describes exactly as the gateway does,
// behind its store.timeout deadline (`livery store copy`). Errors are
// those of the driver (an unreachable S3, a missing bucket, bad keys).
func OpenStore(ctx context.Context, c config.Store) (objstore.Store, error) {
	return openStore(ctx, c)
}

// TenantIDs are the tenants a tool may name: those of the configuration
// file and those created at runtime (the store's records), read without
// writing anything. Errors: the store's.
func TenantIDs(ctx context.Context, cfg *config.Config) ([]string, error) {
	ids := tenantIDsOfFile(cfg)
	if cfg.Store.Driver == "dir" {
		if _, err := os.Stat(cfg.Store.Dir.Path); errors.Is(err, os.ErrNotExist) {
			return ids, nil
		}
	}
	store, err := openStore(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	rs, err := records.New(store, nil, records.Options{Logger: slog.New(slog.DiscardHandler)}).List(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if !slices.Contains(ids, r.ID) {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

func tenantIDsOfFile(cfg *config.Config) []string {
	ids := make([]string, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		ids[i] = t.ID
	}
	return ids
}
