package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/authz"
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
		Actor: authz.Subject{User: "oscar", Roles: []string{"operator"}}, SubmissionID: "s1", Version: 3,
		Reason: "lgtm", Detail: "d"}
	earlier := audit.Record{ID: "s0", Time: t0, Event: "branding.submit", Tenant: "acme",
		Actor: authz.Subject{User: "alice", Tenant: "acme"}}
	for _, r := range []audit.Record{full, earlier, {ID: "x", Time: t0, Event: "branding.submit", Tenant: "other",
		Actor: authz.Subject{User: "bob"}}} {
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
	r := audit.Record{ID: "s1", Time: t0, Event: "branding.submit", Tenant: "acme", Actor: authz.Subject{User: "alice"}}
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

// TestOldActorJSON: records stored when Record.Actor was audit.Actor
// (user, roles, tenant) read back into authz.Subject with the same values
// and re-encode to the same bytes.
func TestOldActorJSON(t *testing.T) {
	ctx := t.Context()
	st, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	old := []struct {
		key, json string // as written before authz.Subject
		actor     authz.Subject
	}{
		{"audit/acme/branding/20260213T150405.123456789Z-branding.approve-s1.json",
			`{"id":"s1","time":"2026-02-13T15:04:05.123456789Z","event":"branding.approve","tenant":"acme","actor":{"user":"oscar","roles":["operator"]},"submission_id":"s1","version":3,"reason":"lgtm"}`,
			authz.Subject{User: "oscar", Roles: []string{"operator"}}},
		{"audit/acme/branding/20260213T150406.000000000Z-branding.submit-s2.json",
			`{"id":"s2","time":"2026-02-13T15:04:06Z","event":"branding.submit","tenant":"acme","actor":{"user":"alice","roles":["partner_admin","customer_manager"],"tenant":"acme"},"submission_id":"s2","detail":"due 2026-02-18T15:04:06Z"}`,
			authz.Subject{User: "alice", Roles: []string{"partner_admin", "customer_manager"}, Tenant: "acme"}},
		{"audit/acme/branding/20260213T150407.000000000Z-branding.draft.save-d1.json",
			`{"id":"d1","time":"2026-02-13T15:04:07Z","event":"branding.draft.save","tenant":"acme","actor":{"user":"bob"}}`,
			authz.Subject{User: "bob"}},
		// A machine caller's record (the partner API) has no actor.
		{"audit/acme/partner/20260213T150408.000000000Z-customer.create-p1.json",
			`{"id":"p1","time":"2026-02-13T15:04:08Z","event":"customer.create","tenant":"acme","key_id":"k1","xaccount_type":"partner","xaccount_id":"x1","domain_id":"d1","result":"ok"}`,
			authz.Subject{}},
	}
	for _, o := range old {
		if _, err := objstore.PutBytes(ctx, st, o.key, []byte(o.json), objstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	branding, err := audit.NewLog(st, "branding").Records(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	partner, err := audit.NewLog(st, "partner").Records(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	got := append(branding, partner...)
	if len(got) != len(old) {
		t.Fatalf("got %d records, want %d", len(got), len(old))
	}
	for i, r := range got {
		if !reflect.DeepEqual(r.Actor, old[i].actor) {
			t.Errorf("record %s: actor %+v, want %+v", r.ID, r.Actor, old[i].actor)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != old[i].json {
			t.Errorf("record %s re-encodes to\n%s\nwant\n%s", r.ID, b, old[i].json)
		}
	}
}

// TestPageRefuses: Page refuses a malformed tenant, a non-positive limit
// and a cursor that is not a record name, before touching the store.
func TestPageRefuses(t *testing.T) {
	d, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := audit.NewLog(d, "branding")
	for _, c := range []struct {
		tenant, before string
		limit          int
	}{
		{"../x", "", 1},
		{"acme", "", 0},
		{"acme", "../../secret.json", 1},
		{"acme", "20260213T150405.123456789Z-branding.submit-s0", 1}, // no .json
	} {
		if _, _, err := l.Page(t.Context(), c.tenant, audit.Filter{}, c.before, c.limit); !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("Page(%q, %q, %d) = %v; want ErrInvalid", c.tenant, c.before, c.limit, err)
		}
	}
	if err := l.Record(t.Context(), audit.Record{ID: "s0", Time: t0, Event: "branding.submit", Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	recs, next, err := l.Page(t.Context(), "acme", audit.Filter{}, "20260213T150405.123456789Z-branding.submit-s0.json", 5)
	if err != nil || len(recs) != 0 || next != "" {
		t.Fatalf("page below the only record: %v %q %v", recs, next, err)
	}
}
