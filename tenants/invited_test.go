package tenants_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// TestAssociate: an association made by invitation appears in the
// customer list with its type and associated_on (the partner API's
// filters), a type change moves it between the type filters, an unbound
// one is found by nothing (id, name, type, window), re-binding brings it
// back with the new date and no old managers; every call is idempotent.
func TestAssociate(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			b := open(t)
			ctx := context.Background()
			s := newService(b, tenants.Builtin{}, nil)
			if _, err := s.Create(ctx, "ta", reg("u1", "registered_1", ""), tenants.Meta{}); err != nil {
				t.Fatal(err)
			}
			since := time.Date(2026, 12, 1, 10, 0, 0, 123, time.UTC)
			count := func(q tenants.Query) int {
				t.Helper()
				list, n, err := s.List(ctx, "ta", q)
				if err != nil || n != len(list) {
					t.Fatalf("list %+v: %d %d %v", q, len(list), n, err)
				}
				return n
			}
			a := tenants.Association{Customer: "acct-7", Type: tenants.AssociationReferral, Since: since, Bound: true}
			for range 2 { // idempotent
				c, err := s.Associate(ctx, "ta", a)
				if err != nil || c.State != tenants.StateActive || !c.Invited() || c.DomainID != "acct-7" ||
					!c.AssociatedOn.Equal(since.Truncate(time.Second)) {
					t.Fatalf("associate: %+v %v", c, err)
				}
			}
			if got, _ := s.ByDomainID(ctx, "ta", "acct-7"); got == nil || got.AssociationType != tenants.AssociationReferral {
				t.Fatalf("by id: %+v", got)
			}
			day := tenants.Query{AssociatedOnBegin: since.Add(-time.Hour), AssociatedOnEnd: since.Add(time.Hour)}
			if count(tenants.Query{}) != 2 || count(tenants.Query{AssociationType: "1"}) != 1 || count(day) != 1 ||
				count(tenants.Query{AssociatedOnEnd: since.Add(-time.Hour)}) != 0 {
				t.Fatal("the invited customer is not in the list as its association says")
			}
			if _, err := s.SetManagers(ctx, "ta", "acct-7", []string{"cm-1"}); err != nil {
				t.Fatal(err)
			}

			a.Type = tenants.AssociationResale
			if _, err := s.Associate(ctx, "ta", a); err != nil {
				t.Fatal(err)
			}
			if count(tenants.Query{AssociationType: "1"}) != 0 || count(tenants.Query{AssociationType: "2"}) != 2 ||
				count(tenants.Query{Managers: []string{"cm-1"}}) != 1 {
				t.Fatal("type change not reflected (or managers lost)")
			}

			a.Bound = false
			for range 2 {
				c, err := s.Associate(ctx, "ta", a)
				if err != nil || c.State != tenants.StateUnbound {
					t.Fatalf("unbind: %+v %v", c, err)
				}
			}
			if got, _ := s.ByDomainID(ctx, "ta", "acct-7"); got != nil {
				t.Fatalf("unbound customer still found by id: %+v", got)
			}
			if count(tenants.Query{}) != 1 || count(tenants.Query{AccountName: "acct-7"}) != 0 || count(day) != 0 ||
				count(tenants.Query{Managers: []string{"cm-1"}}) != 0 {
				t.Fatal("unbound customer still listed")
			}
			// A rebuild (Redis lost) does not bring it back.
			if n, err := s.Reindex(ctx, "ta"); err != nil || n != 1 {
				t.Fatalf("reindex: %d %v", n, err)
			}
			if c, err := s.Associate(ctx, "ta", tenants.Association{Customer: "never", Type: "1"}); c != nil || err != nil {
				t.Fatalf("unbinding a never-bound account: %+v %v", c, err)
			}

			later := since.AddDate(0, 4, 0).Truncate(time.Second)
			c, err := s.Associate(ctx, "ta", tenants.Association{Customer: "acct-7", Type: "1", Since: later, Bound: true})
			if err != nil || len(c.Managers) != 0 || !c.AssociatedOn.Equal(later) {
				t.Fatalf("bound again: %+v %v", c, err)
			}
			if count(tenants.Query{AssociatedOnBegin: later}) != 1 {
				t.Fatal("bound again: not listed with the new date")
			}
			if _, err := s.Associate(ctx, "ta", tenants.Association{Customer: "acct-7", Type: "3", Bound: true}); !errors.Is(err, tenants.ErrInvalid) {
				t.Fatalf("type 3: %v", err)
			}
		})
	}
}

// TestAssociateRemovalRepaired: Redis refuses the index removal of an
// unbinding (ACL: no HDEL); the customer stays listed until the refusal is
// lifted, then the repairer removes it on its own.
func TestAssociateRemovalRepaired(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	admin, err := redisx.Open(ctx, redisx.Options{URL: "redis://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.Do(ctx, "ACL", "SETUSER", "app2", "on", ">app-secret", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	app, err := redisx.Open(ctx, redisx.Options{URL: "redis://" + addr, Username: "app2", Password: "app-secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	b := backends(t)["dir+embedded"](t)
	s := tenants.NewCustomers(tenants.CustomerOptions{Store: b.store, Provisioner: tenants.Builtin{}, Codes: &fakeCodes{},
		Index: redisindex.Index{RDB: app}, PhoneLimit: 2, Logger: slog.New(slog.DiscardHandler)})
	listed := func() bool {
		t.Helper()
		c, err := s.ByDomainID(ctx, "tr", "acct-9")
		if err != nil {
			t.Fatal(err)
		}
		return c != nil
	}
	a := tenants.Association{Customer: "acct-9", Type: "2", Since: time.Now(), Bound: true}
	if _, err := s.Associate(ctx, "tr", a); err != nil || !listed() {
		t.Fatalf("associate: %v", err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "app2", "-hdel").Err(); err != nil {
		t.Fatal(err)
	}
	a.Bound = false
	if c, err := s.Associate(ctx, "tr", a); err != nil || c.State != tenants.StateUnbound {
		t.Fatalf("unbind with the removal refused: %+v %v", c, err)
	}
	if !listed() {
		t.Fatal("removed although Redis refused HDEL: the test does not test anything")
	}
	if n, err := s.RepairIndex(ctx); err == nil || n != 1 {
		t.Fatalf("repair while refused: %d %v; want 1 remaining and the error", n, err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "app2", "+hdel").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RepairIndex(ctx); err != nil || n != 0 {
		t.Fatalf("repair: %d %v", n, err)
	}
	if listed() {
		t.Fatal("unbound customer still listed after the repair")
	}
}
