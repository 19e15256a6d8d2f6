package audit_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/testenv"
)

// TestLog runs against the directory driver and a real MinIO server.
func TestLog(t *testing.T) {
	m := testenv.StartMinIO(t)
	backends := map[string]func(t *testing.T) objstore.Store{
		"dir": func(t *testing.T) objstore.Store {
			d, err := objstore.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		"minio": func(t *testing.T) objstore.Store {
			s, err := objstore.NewS3(context.Background(), objstore.S3Config{
				Endpoint: m.Endpoint, Bucket: m.NewBucket(t), AccessKey: m.AccessKey, SecretKey: m.SecretKey,
			})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				fn   func(t *testing.T, st objstore.Store)
			}{
				{"records list back oldest first, per tenant and stream", testRoundTrip},
				{"recording again stores once", testIdempotent},
				{"malformed records are refused", testInvalid},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, open(t))
				})
			}
		})
	}
}

var t0 = time.Date(2026, 2, 13, 15, 4, 5, 123456789, time.UTC)

func testRoundTrip(t *testing.T, st objstore.Store) {
	ctx := t.Context()
	branding, partner := audit.NewLog(st, "branding"), audit.NewLog(st, "partner")
	full := audit.Record{ID: "s1", Time: t0.Add(time.Hour), Event: "branding.approve", Tenant: "acme",
		Actor: audit.Actor{User: "oscar", Roles: []string{"operator"}}, SubmissionID: "s1", Version: 3,
		Reason: "lgtm", Detail: "d"}
	earlier := audit.Record{ID: "s0", Time: t0, Event: "branding.submit", Tenant: "acme",
		Actor: audit.Actor{User: "alice", Tenant: "acme"}}
	for _, r := range []audit.Record{full, earlier, {ID: "x", Time: t0, Event: "branding.submit", Tenant: "other",
		Actor: audit.Actor{User: "bob"}}} {
		if err := branding.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now().UTC()
	if err := partner.Record(ctx, audit.Record{Event: "customer.create", Tenant: "acme", KeyID: "AK1",
		XAccountType: "plat", XAccountID: "u1", DomainID: "d1", Result: "ok", Source: "192.0.2.1", RequestID: "r1"}); err != nil {
		t.Fatal(err)
	}
	got, err := branding.Records(ctx, "acme")
	if err != nil || !reflect.DeepEqual(got, []audit.Record{earlier, full}) {
		t.Fatalf("branding records %+v, %v; want %+v", got, err, []audit.Record{earlier, full})
	}
	got, err = partner.Records(ctx, "acme")
	if err != nil || len(got) != 1 {
		t.Fatalf("partner records %+v, %v", got, err)
	}
	p := got[0]
	if p.ID == "" || p.Time.Before(before.Add(-time.Second)) || p.Time.Location() != time.UTC || p.KeyID != "AK1" ||
		p.DomainID != "d1" || p.Result != "ok" || p.Source != "192.0.2.1" || p.RequestID != "r1" || p.Actor.User != "" {
		t.Fatalf("partner record %+v: want the fields stored, id and time filled in", p)
	}
	if got, err := partner.Records(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Fatalf("tenant without records: %v %v", got, err)
	}
	// The documented layout.
	objs, err := st.List(ctx, "audit/acme/")
	if err != nil || len(objs) != 3 {
		t.Fatalf("objects %v %v", objs, err)
	}
	if want := "audit/acme/branding/20260213T150405.123456789Z-branding.submit-s0.json"; objs[0].Key != want {
		t.Fatalf("key %q; want %q", objs[0].Key, want)
	}
	if k := objs[2].Key; !strings.HasPrefix(k, "audit/acme/partner/") || !strings.Contains(k, "Z-customer.create-"+p.ID+".json") {
		t.Fatalf("partner key %q", k)
	}
}

func testIdempotent(t *testing.T, st objstore.Store) {
	ctx := t.Context()
	l := audit.NewLog(st, "branding")
	r := audit.Record{ID: "s1", Time: t0, Event: "branding.submit", Tenant: "acme", Actor: audit.Actor{User: "alice"}}
	for range 3 {
		if err := l.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := l.Records(ctx, "acme"); err != nil || len(got) != 1 {
		t.Fatalf("%d records, %v; want 1", len(got), err)
	}
}

func testInvalid(t *testing.T, st objstore.Store) {
	ctx := t.Context()
	l := audit.NewLog(st, "branding")
	ok := audit.Record{ID: "s1", Time: t0, Event: "branding.submit", Tenant: "acme"}
	for name, mod := range map[string]func(r *audit.Record){
		"no tenant":         func(r *audit.Record) { r.Tenant = "" },
		"tenant with slash": func(r *audit.Record) { r.Tenant = "a/b" },
		"dot tenant":        func(r *audit.Record) { r.Tenant = ".." },
		"no event":          func(r *audit.Record) { r.Event = "" },
		"event with slash":  func(r *audit.Record) { r.Event = "x/y" },
		"id with slash":     func(r *audit.Record) { r.ID = "../x" },
	} {
		r := ok
		mod(&r)
		if err := l.Record(ctx, r); !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("%s: %v; want ErrInvalid", name, err)
		}
	}
	if _, err := l.Records(ctx, "../x"); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("Records of a malformed tenant: %v", err)
	}
	if objs, err := st.List(ctx, ""); err != nil || len(objs) != 0 {
		t.Fatalf("refused records wrote %v (%v)", objs, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewLog accepted a malformed stream name")
		}
	}()
	audit.NewLog(st, "Bad/Stream")
}
