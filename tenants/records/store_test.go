package records_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/livery/livery/tenants/records"
)

var storeTests = []testCase{
	{"create, get, list; secrets sealed", func(t *testing.T, e *env) {
		b := mustCreate(t, e, input("beta"))
		a := mustCreate(t, e, input("acme"))
		if a.Version != 1 || a.Status != records.StatusActive || a.Managed != records.ManagedStore || a.UpdatedBy != "olga" {
			t.Errorf("created = %+v", a)
		}
		got, err := e.s.Get(e.ctx, "acme")
		if err != nil || got.Upstream != a.Upstream || got.SignIn == nil || got.SignIn.ClientID != "acme-console" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		p, err := e.sealer.Open("acme", records.FieldClientSecret, got.SignIn.ClientSecretSealed)
		if err != nil || string(p) != "s3cret-acme" {
			t.Errorf("sealed secret opens to %q, %v", p, err)
		}
		// Bound to tenant and field: the sealed value does not open elsewhere.
		if _, err := e.sealer.Open("beta", records.FieldClientSecret, got.SignIn.ClientSecretSealed); !errors.Is(err, records.ErrUnseal) {
			t.Errorf("secret opened for another tenant: %v", err)
		}
		if raw := e.raws(t); strings.Contains(raw, "s3cret") {
			t.Errorf("stored registry holds a secret in clear text")
		}
		all, err := e.s.List(e.ctx)
		if err != nil || len(all) != 2 || all[0].ID != "acme" || all[1].ID != b.ID {
			t.Errorf("List = %v, %v", all, err)
		}
		if _, err := e.s.Get(e.ctx, "nope"); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("Get missing = %v", err)
		}
		if e.notify.count("acme") != 1 {
			t.Errorf("notified %d times", e.notify.count("acme"))
		}
	}},
	{"create refuses a taken id and invalid input, writing nothing", func(t *testing.T, e *env) {
		mustCreate(t, e, input("acme"))
		if _, err := e.s.Create(e.ctx, input("acme", "other.example"), operator); !errors.Is(err, records.ErrExists) {
			t.Errorf("duplicate Create = %v", err)
		}
		bad := input("beta")
		bad.Upstream = "cloud.example"
		if _, err := e.s.Create(e.ctx, bad, operator); !errors.Is(err, records.ErrInvalid) {
			t.Errorf("invalid Create = %v", err)
		}
		if all, _ := e.s.List(e.ctx); len(all) != 1 {
			t.Errorf("List after refused creates = %d records", len(all))
		}
	}},
	{"host conflicts name the other tenant", func(t *testing.T, e *env) {
		mustCreate(t, e, input("acme", "console.acme.example", "acme.example:8443"))
		mustCreate(t, e, input("beta"))
		_, err := e.s.Create(e.ctx, input("gamma", "gamma.example", "CONSOLE.acme.example."), operator)
		var hc *records.HostConflictError
		if !errors.As(err, &hc) || !errors.Is(err, records.ErrHostConflict) || hc.Other != "acme" || hc.Host != "console.acme.example" {
			t.Fatalf("Create with acme's host = %v", err)
		}
		if !strings.Contains(err.Error(), `"acme"`) {
			t.Errorf("error does not name the tenant: %v", err)
		}
		in := input("beta", "console.beta.example", "acme.example:8443")
		_, err = e.s.Update(e.ctx, in, 1, operator)
		if !errors.As(err, &hc) || hc.Other != "acme" {
			t.Errorf("Update onto acme's host = %v", err)
		}
		// A host freed by one tenant can be taken by another.
		if _, err := e.s.Update(e.ctx, input("acme", "console.acme.example"), 1, operator); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Update(e.ctx, in, 1, operator); err != nil {
			t.Errorf("Update onto a freed host = %v", err)
		}
	}},
	{"concurrent creates of one host: exactly one wins", func(t *testing.T, e *env) {
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.store(e.log).Create(e.ctx, input("t"+string(rune('a'+i))+"x", "shared.example"), operator)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, records.ErrHostConflict):
				t.Errorf("loser error = %v", err)
			}
		}
		if all, _ := e.s.List(e.ctx); won != 1 || len(all) != 1 {
			t.Errorf("%d creates won, %d stored", won, len(all))
		}
	}},
	{"update is compare-and-swap: of two concurrent updates exactly one wins", func(t *testing.T, e *env) {
		mustCreate(t, e, input("acme"))
		for round := int64(1); round <= 3; round++ {
			ups := []string{"https://one.example", "https://two.example"}
			errs := make([]error, len(ups))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, up := range ups {
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := input("acme")
					in.Upstream = up + "/r" + string(rune('0'+round))
					<-start
					_, errs[i] = e.store(e.log).Update(e.ctx, in, round, operator)
				}()
			}
			close(start)
			wg.Wait()
			var vc *records.VersionConflictError
			okCount := 0
			for _, err := range errs {
				switch {
				case err == nil:
					okCount++
				case errors.As(err, &vc) && errors.Is(err, records.ErrConflict):
					if vc.Current != round+1 || vc.Want != round {
						t.Errorf("conflict = %+v", vc)
					}
				default:
					t.Errorf("round %d: %v", round, err)
				}
			}
			if okCount != 1 {
				t.Fatalf("round %d: %d updates won", round, okCount)
			}
			if r, _ := e.s.Get(e.ctx, "acme"); r.Version != round+1 {
				t.Fatalf("version = %d after round %d", r.Version, round)
			}
		}
		if got := len(e.audits(t, "acme")); got != 4 {
			t.Errorf("%d audit records, want 4 (create + 3 updates)", got)
		}
	}},
	{"stale version refused; unchanged input stores nothing", func(t *testing.T, e *env) {
		mustCreate(t, e, input("acme"))
		in := input("acme")
		in.Name.EN = "Acme Two"
		r, err := e.s.Update(e.ctx, in, 1, operator)
		if err != nil || r.Version != 2 {
			t.Fatalf("Update = %+v, %v", r, err)
		}
		if _, err := e.s.Update(e.ctx, input("acme"), 1, operator); !errors.Is(err, records.ErrConflict) {
			t.Errorf("stale Update = %v", err)
		}
		same, err := e.s.Update(e.ctx, in, 2, operator) // same secret again: no change
		if err != nil || same.Version != 2 {
			t.Errorf("no-op Update = %+v, %v", same, err)
		}
		if _, err := e.s.Update(e.ctx, input("ghost"), 1, operator); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("Update missing = %v", err)
		}
		if n := len(e.audits(t, "acme")); n != 2 {
			t.Errorf("%d audit records, want 2", n)
		}
	}},
	{"audit records show before and after, secrets only as changed", func(t *testing.T, e *env) {
		mustCreate(t, e, input("acme"))
		in := input("acme")
		in.Upstream = "https://new.cloud.example"
		in.SignIn.ClientSecret = ptr("brand-new-secret")
		if _, err := e.s.Update(e.ctx, in, 1, operator); err != nil {
			t.Fatal(err)
		}
		in.SignIn.ClientSecret = nil // keep
		in.Name.ZH = "新名称"
		if _, err := e.s.Update(e.ctx, in, 2, operator); err != nil {
			t.Fatal(err)
		}
		rs := e.audits(t, "acme")
		if len(rs) != 3 {
			t.Fatalf("%d audit records", len(rs))
		}
		for _, r := range rs {
			if strings.Contains(r.Detail, "s3cret") || strings.Contains(r.Detail, "brand-new") {
				t.Errorf("audit %s shows a secret: %s", r.Event, r.Detail)
			}
		}
		if rs[0].Event != records.EventCreated || !strings.Contains(rs[0].Detail, "sign_in.client_secret: changed") {
			t.Errorf("create audit = %+v", rs[0])
		}
		want := `upstream: "https://console.cloud.example" → "https://new.cloud.example"; sign_in.client_secret: changed`
		if rs[1].Event != records.EventUpdated || rs[1].Detail != want || rs[1].Actor.User != "olga" || rs[1].ID != "v2" {
			t.Errorf("update audit = %+v", rs[1])
		}
		if strings.Contains(rs[2].Detail, "client_secret") || !strings.Contains(rs[2].Detail, "name.zh") {
			t.Errorf("a kept secret was reported changed: %s", rs[2].Detail)
		}
	}},
	{"suspend and resume are audited, idempotent", func(t *testing.T, e *env) {
		mustCreate(t, e, input("acme"))
		r, err := e.s.Suspend(e.ctx, "acme", "unpaid invoices", operator)
		if err != nil || r.Status != records.StatusSuspended || r.Version != 2 {
			t.Fatalf("Suspend = %+v, %v", r, err)
		}
		if r, err := e.s.Suspend(e.ctx, "acme", "again", operator); err != nil || r.Version != 2 {
			t.Errorf("second Suspend = %+v, %v", r, err)
		}
		// An update keeps the status.
		in := input("acme")
		in.Name.EN = "Acme Renamed"
		if r, err := e.s.Update(e.ctx, in, 2, operator); err != nil || r.Status != records.StatusSuspended {
			t.Errorf("Update of a suspended tenant = %+v, %v", r, err)
		}
		if r, err := e.s.Resume(e.ctx, "acme", operator); err != nil || r.Status != records.StatusActive || r.Version != 4 {
			t.Errorf("Resume = %+v, %v", r, err)
		}
		if _, err := e.s.Suspend(e.ctx, "ghost", "", operator); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("Suspend missing = %v", err)
		}
		rs := e.audits(t, "acme")
		events := []string{}
		for _, r := range rs {
			events = append(events, r.Event)
		}
		if strings.Join(events, ",") != "tenant.create,tenant.suspend,tenant.update,tenant.resume" {
			t.Errorf("events = %v", events)
		}
		if rs[1].Reason != "unpaid invoices" || rs[1].Detail != `status: "active" → "suspended"` {
			t.Errorf("suspend audit = %+v", rs[1])
		}
	}},
	{"an audit record lost to a failure is written by the next write", func(t *testing.T, e *env) {
		flaky := &flakySink{Sink: e.log, n: 1}
		s := e.store(flaky)
		r, err := s.Create(e.ctx, input("acme"), operator)
		if !errors.Is(err, errInjected) || r.Version != 1 {
			t.Fatalf("Create with failing audit = %+v, %v (want the record and the audit error)", r, err)
		}
		if n := len(e.audits(t, "acme")); n != 0 {
			t.Fatalf("%d audit records before recovery", n)
		}
		if _, err := e.s.Suspend(e.ctx, "acme", "", operator); err != nil {
			t.Fatal(err)
		}
		rs := e.audits(t, "acme")
		if len(rs) != 2 || rs[0].Event != records.EventCreated || rs[1].Event != records.EventSuspended {
			t.Errorf("audit after recovery = %+v", rs)
		}
	}},
	{"a failed write returns no record and stores nothing", func(t *testing.T, e *env) {
		mustCreate(t, e, input("acme"))
		fs := &faultStore{Store: e.raw, substr: records.RegistryKey, n: 1}
		s := records.New(fs, e.sealer, records.Options{Audit: e.log, Now: e.clock.Now})
		r, err := s.Create(e.ctx, input("beta"), operator)
		if !errors.Is(err, errStore) || r.ID != "" {
			t.Errorf("Create on a failing store = %+v, %v", r, err)
		}
		fs.n = 1
		in := input("acme")
		in.Upstream = "https://other.example"
		if r, err := s.Update(e.ctx, in, 1, operator); !errors.Is(err, errStore) || r.ID != "" {
			t.Errorf("Update on a failing store = %+v, %v", r, err)
		}
		all, _ := e.s.List(e.ctx)
		if len(all) != 1 || all[0].Version != 1 || all[0].Upstream != "https://console.cloud.example" {
			t.Errorf("stored after failures = %+v", all)
		}
		if n := len(e.audits(t, "beta")) + len(e.audits(t, "acme")); n != 1 {
			t.Errorf("%d audit records, want 1 (acme's create)", n)
		}
	}},
}
