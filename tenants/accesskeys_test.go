package tenants_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/keyusage"
)

// countingUsage wraps a KeyUsage, counting Touches and failing while err
// is set.
type countingUsage struct {
	tenants.KeyUsage
	touches atomic.Int32
	mu      sync.Mutex
	err     error
}

func (u *countingUsage) fail(err error) { u.mu.Lock(); u.err = err; u.mu.Unlock() }

func (u *countingUsage) Touch(ctx context.Context, tenant, ak string, at time.Time) error {
	u.touches.Add(1)
	u.mu.Lock()
	err := u.err
	u.mu.Unlock()
	if err != nil {
		return err
	}
	return u.KeyUsage.Touch(ctx, tenant, ak, at)
}

func (u *countingUsage) LastUsed(ctx context.Context, tenant string) (map[string]time.Time, error) {
	u.mu.Lock()
	err := u.err
	u.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return u.KeyUsage.LastUsed(ctx, tenant)
}

// TestAccessKeys: create (audited, secret once), list with last-used
// times, revoke (audited once, idempotent), unknown keys, and last use
// written at most once a minute; Redis failures cost only last-used times.
func TestAccessKeys(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b := mk(t)
			creds, err := tenants.NewCredentials(b.store, bytes.Repeat([]byte{3}, 32), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			usage := &countingUsage{KeyUsage: keyusage.Usage{RDB: b.rdb}}
			au := &memAudit{}
			k := tenants.NewAccessKeys(tenants.AccessKeysOptions{Credentials: creds, Usage: usage, Audit: au, Now: clk.Now})
			actor := tenants.Actor{Subject: authz.Subject{User: "pa-a", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"}, RequestID: "r1"}

			k1, sk, err := k.Create(ctx, actor, "acme")
			if err != nil || len(sk) != 40 || k1.AccessKey == "" || k1.LastUsedAt != nil {
				t.Fatalf("create: %+v %q %v", k1, sk, err)
			}
			if tenant, secret, err := creds.Lookup(ctx, k1.AccessKey); err != nil || tenant != "acme" || string(secret) != sk {
				t.Fatalf("lookup of the new key: %s %v", tenant, err)
			}
			k2, _, err := k.Create(ctx, actor, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := k.Create(ctx, actor, "acme"); !errors.Is(err, tenants.ErrTooManyKeys) {
				t.Fatalf("third key: %v", err)
			}

			// Use: one Touch per key per minute.
			for range 5 {
				k.Used(ctx, "acme", k1.AccessKey)
			}
			if n := usage.touches.Load(); n != 1 {
				t.Fatalf("%d touches for 5 uses within a minute", n)
			}
			usedAt := clk.Now()
			clk.Add(30 * time.Second)
			k.Used(ctx, "acme", k1.AccessKey)
			clk.Add(31 * time.Second)
			k.Used(ctx, "acme", k1.AccessKey)
			if n := usage.touches.Load(); n != 2 {
				t.Fatalf("%d touches, want 2 after a minute", n)
			}
			list, err := k.List(ctx, "acme")
			if err != nil || len(list) != 2 || list[0].AccessKey != k1.AccessKey || list[0].LastUsedAt == nil ||
				!list[0].LastUsedAt.Equal(clk.Now().Truncate(time.Second)) || list[1].LastUsedAt != nil {
				t.Fatalf("list: %+v %v (used at %v..%v)", list, err, usedAt, clk.Now())
			}
			// Usage store down: uses do not fail and are not retried within the minute; lists lack last use only.
			usage.fail(errors.New("redis down"))
			clk.Add(2 * time.Minute)
			k.Used(ctx, "acme", k2.AccessKey)
			k.Used(ctx, "acme", k2.AccessKey)
			if n := usage.touches.Load(); n != 3 {
				t.Fatalf("%d touches while failing, want 3 (no retry within the minute)", n)
			}
			if list, err := k.List(ctx, "acme"); err != nil || len(list) != 2 || list[0].LastUsedAt != nil {
				t.Fatalf("list with usage down: %+v %v", list, err)
			}
			usage.fail(nil)

			// Revoke: audited once, idempotent; unknown keys.
			r1, err := k.Revoke(ctx, actor, "acme", k1.AccessKey)
			if err != nil || r1.RevokedAt == nil {
				t.Fatalf("revoke: %+v %v", r1, err)
			}
			clk.Add(time.Hour)
			again, err := k.Revoke(ctx, actor, "acme", k1.AccessKey)
			if err != nil || again.RevokedAt == nil || !again.RevokedAt.Equal(*r1.RevokedAt) {
				t.Fatalf("revoke again: %+v %v", again, err)
			}
			if _, _, err := creds.Lookup(ctx, k1.AccessKey); !errors.Is(err, tenants.ErrUnknownKey) {
				t.Fatalf("revoked key still authenticates: %v", err)
			}
			for _, tc := range []struct{ tenant, ak string }{{"acme", "NOSUCHKEY"}, {"globex", k2.AccessKey}} {
				if _, err := k.Revoke(ctx, actor, tc.tenant, tc.ak); !errors.Is(err, tenants.ErrUnknownKey) {
					t.Fatalf("revoke %s/%s: %v", tc.tenant, tc.ak, err)
				}
			}
			if _, _, err := creds.Lookup(ctx, k2.AccessKey); err != nil {
				t.Fatalf("another tenant's revoke touched the key: %v", err)
			}
			wantEvents := []string{tenants.EventKeyCreate, tenants.EventKeyCreate, tenants.EventKeyRevoke}
			if got := au.events(); len(got) != 3 || got[0] != wantEvents[0] || got[1] != wantEvents[1] || got[2] != wantEvents[2] {
				t.Fatalf("audit events %v, want %v", got, wantEvents)
			}
			if r := au.recs[2]; r.KeyID != k1.AccessKey || r.Actor.User != "pa-a" || r.Tenant != "acme" || r.RequestID != "r1" {
				t.Fatalf("revoke record %+v", r)
			}

			// Audit down: a created key is revoked again, the caller told.
			au.err = errors.New("audit down")
			if _, _, err := k.Create(ctx, actor, "acme"); !errors.Is(err, tenants.ErrUnavailable) {
				t.Fatalf("create unaudited: %v", err)
			}
			list, _ = k.List(ctx, "acme")
			active := 0
			for _, a := range list {
				if a.RevokedAt == nil {
					active++
				}
			}
			if len(list) != 3 || active != 1 {
				t.Fatalf("unaudited key left active: %+v", list)
			}
		})
	}
}
