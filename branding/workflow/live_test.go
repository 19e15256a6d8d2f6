package workflow_test

import (
	"encoding/json"
	"errors"
	"image/color"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
)

var liveTests = []testCase{
	{"versions and rollback", testVersionsRollback},
	{"every action is audited", testAuditEveryAction},
	{"records stored before the audit package still list", testAuditOldRecords},
}

func testVersionsRollback(t *testing.T, e *env) {
	if v, err := e.svc.Live(e.ctx, tenant); v != nil || err != nil {
		t.Fatalf("Live with nothing approved = %v, %v; want nil, nil", v, err)
	}
	v1 := e.publish(t, tenant, validDoc("#111111"))
	v2 := e.publish(t, tenant, validDoc("#222222"))
	if v1.Number != 1 || v2.Number != 2 || e.liveNumber(t, tenant) != 2 {
		t.Fatalf("versions %d, %d, live %d; want 1, 2, live 2", v1.Number, v2.Number, e.liveNumber(t, tenant))
	}
	refused := []struct {
		name string
		n    int
		why  string
		want error
	}{
		{"no reason", 1, " ", workflow.ErrReasonRequired},
		{"unknown version", 7, "x", workflow.ErrNotFound},
		{"version 0", 0, "x", workflow.ErrNotFound},
		{"already live", 2, "x", workflow.ErrAlreadyLive},
	}
	for _, c := range refused {
		if _, err := e.svc.Rollback(e.ctx, tenant, c.n, operator, c.why); !errors.Is(err, c.want) {
			t.Errorf("Rollback %s = %v; want %v", c.name, err, c.want)
		}
	}
	if e.liveNumber(t, tenant) != 2 {
		t.Fatal("a refused rollback changed live")
	}
	rv, err := e.svc.Rollback(e.ctx, tenant, 1, op2, "partner asked for the old logo")
	if err != nil || rv.Number != 1 {
		t.Fatalf("Rollback = %+v, %v", rv, err)
	}
	live, err := e.svc.Live(e.ctx, tenant)
	if err != nil || live.Number != 1 || live.Doc.Brand.NavColor != "#111111" {
		t.Fatalf("Live after rollback = %+v, %v; want version 1", live, err)
	}
	vs, err := e.svc.Versions(e.ctx, tenant)
	if err != nil || len(vs) != 2 {
		t.Fatalf("Versions after rollback: %d, %v; want 2 (rollback creates none)", len(vs), err)
	}
	// Forward again, and the next approval takes max+1.
	if _, err := e.svc.Rollback(e.ctx, tenant, 2, op2, "back to 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Rollback(e.ctx, tenant, 1, op2, "and to 1"); err != nil {
		t.Fatal(err)
	}
	if v3 := e.publish(t, tenant, validDoc("#333333")); v3.Number != 3 || e.liveNumber(t, tenant) != 3 {
		t.Fatalf("approval after rollback = version %d, live %d; want 3, 3", v3.Number, e.liveNumber(t, tenant))
	}
	got, err := e.svc.Version(e.ctx, tenant, 2)
	if err != nil || got.Doc.Brand.NavColor != "#222222" || got.ApprovedBy.User != operator.User {
		t.Fatalf("Version(2) = %+v, %v", got, err)
	}
	want := []string{"acme@1", "acme@2", "acme@1", "acme@2", "acme@1", "acme@3"}
	if got := e.notified.list(); !slices.Equal(got, want) {
		t.Fatalf("notifier calls %v; want %v", got, want)
	}
}

func testAuditEveryAction(t *testing.T, e *env) {
	asset, err := e.svc.PutImage(e.ctx, tenant, tinyPNG(t, 2, 2, color.Gray{Y: 128}), partner)
	if err != nil {
		t.Fatal(err)
	}
	doc := validDoc("#111111")
	doc.Brand.LogoZH = asset
	s1 := e.submit(t, tenant, doc)
	if _, err := e.svc.Reject(e.ctx, tenant, s1.ID, operator, "colour clash"); err != nil {
		t.Fatal(err)
	}
	s2, err := e.svc.Submit(e.ctx, tenant, partner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Withdraw(e.ctx, tenant, partner2); err != nil {
		t.Fatal(err)
	}
	s3, err := e.svc.Submit(e.ctx, tenant, partner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Approve(e.ctx, tenant, s3.ID, operator, "lgtm"); err != nil {
		t.Fatal(err)
	}
	e.publish(t, tenant, validDoc("#222222"))
	if _, err := e.svc.Rollback(e.ctx, tenant, 1, op2, "regression"); err != nil {
		t.Fatal(err)
	}
	recs, err := e.svc.Audit(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ event, user, sub string }
	have := map[key]audit.Record{}
	for _, r := range recs {
		if r.Tenant != tenant || r.Time.IsZero() || r.ID == "" {
			t.Errorf("incomplete record %+v", r)
		}
		have[key{r.Event, r.Actor.User, r.SubmissionID}] = r
	}
	wantRecs := []struct {
		k       key
		version int
		reason  string
	}{
		{key{workflow.EventImageUpload, partner.User, ""}, 0, ""},
		{key{workflow.EventDraftSave, partner.User, ""}, 0, ""},
		{key{workflow.EventSubmit, partner.User, s1.ID}, 0, ""},
		{key{workflow.EventReject, operator.User, s1.ID}, 0, "colour clash"},
		{key{workflow.EventSubmit, partner.User, s2.ID}, 0, ""},
		{key{workflow.EventWithdraw, partner2.User, s2.ID}, 0, ""},
		{key{workflow.EventApprove, operator.User, s3.ID}, 1, "lgtm"},
		{key{workflow.EventRollback, op2.User, ""}, 1, "regression"},
	}
	for _, w := range wantRecs {
		r, ok := have[w.k]
		if !ok {
			t.Errorf("no audit record %+v", w.k)
			continue
		}
		if r.Version != w.version || r.Reason != w.reason {
			t.Errorf("record %+v: version %d reason %q; want %d %q", w.k, r.Version, r.Reason, w.version, w.reason)
		}
	}
	// Records are immutable objects under the documented prefix, oldest first.
	objs, err := e.raw.List(e.ctx, "audit/"+tenant+"/branding/")
	if err != nil || len(objs) != len(recs) {
		t.Fatalf("%d audit objects, %d records (%v)", len(objs), len(recs), err)
	}
	if !slices.IsSortedFunc(recs, func(a, b audit.Record) int { return a.Time.Compare(b.Time) }) {
		t.Fatal("audit records not oldest first")
	}
	// Decisions are recorded once even though completion re-records them.
	if c := count(e.events(t, tenant), workflow.EventSubmit); c != 4 {
		t.Fatalf("%d submit records; want 4", c)
	}
}

// testAuditOldRecords: a record written by the workflow's former audit
// sink (its key and its JSON, byte for byte) lists with the new ones, in
// time order, every field intact.
func testAuditOldRecords(t *testing.T, e *env) {
	const oldKey = "audit/acme/branding/20260101T090000.000000000Z-branding.approve-20251231T080000000000000Z-1a2b3c4d.json"
	const oldJSON = `{"id":"20251231T080000000000000Z-1a2b3c4d","time":"2026-01-01T09:00:00Z","event":"branding.approve",` +
		`"tenant":"acme","actor":{"user":"oscar","roles":["operator"]},"submission_id":"20251231T080000000000000Z-1a2b3c4d",` +
		`"version":1,"reason":"lgtm"}`
	if _, err := objstore.PutBytes(e.ctx, e.raw, oldKey, []byte(oldJSON), objstore.PutOptions{ContentType: "application/json"}); err != nil {
		t.Fatal(err)
	}
	e.saveDraft(t, tenant, validDoc("#333333"))
	recs, err := e.svc.Audit(e.ctx, tenant)
	if err != nil || len(recs) != 2 {
		t.Fatalf("Audit: %d records, %v; want the old one and the draft save", len(recs), err)
	}
	want := audit.Record{ID: "20251231T080000000000000Z-1a2b3c4d", Time: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
		Event: workflow.EventApprove, Tenant: tenant, Actor: authz.Subject{User: "oscar", Roles: []string{"operator"}},
		SubmissionID: "20251231T080000000000000Z-1a2b3c4d", Version: 1, Reason: "lgtm"}
	if !reflect.DeepEqual(recs[0], want) || recs[1].Event != workflow.EventDraftSave {
		t.Fatalf("records %+v; want %+v first, then the draft save", recs, want)
	}
	// Read back, it answers what was stored (the admin API returns records as they are).
	b, _ := json.Marshal(recs[0])
	if string(b) != oldJSON {
		t.Fatalf("old record re-encoded as\n%s\nwant\n%s", b, oldJSON)
	}
	// New records keep the old layout.
	objs, err := e.raw.List(e.ctx, "audit/"+tenant+"/branding/")
	if err != nil || len(objs) != 2 || !strings.HasPrefix(objs[1].Key, "audit/acme/branding/2026") ||
		!strings.HasSuffix(objs[1].Key, "Z-"+workflow.EventDraftSave+"-"+recs[1].ID+".json") {
		t.Fatalf("audit objects %v (%v)", objs, err)
	}
}
