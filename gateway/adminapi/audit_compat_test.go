package adminapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/internal/objstore"
)

// TestBrandingAuditOldRecords: a branding audit record stored before the
// audit package (its key and JSON as the workflow's former sink wrote them)
// is answered by the audit endpoint exactly as before, after the records
// written since (the trail is listed newest first).
func TestBrandingAuditOldRecords(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	const oldKey = "audit/acme/branding/20260101T090000.000000000Z-branding.reject-20251231T080000000000000Z-1a2b3c4d.json"
	const oldJSON = `{"id":"20251231T080000000000000Z-1a2b3c4d","time":"2026-01-01T09:00:00Z","event":"branding.reject",` +
		`"tenant":"acme","actor":{"user":"op-1","roles":["operator"]},"submission_id":"20251231T080000000000000Z-1a2b3c4d",` +
		`"reason":"logo too small"}`
	if _, err := objstore.PutBytes(context.Background(), e.Store, oldKey, []byte(oldJSON), objstore.PutOptions{ContentType: "application/json"}); err != nil {
		t.Fatal(err)
	}
	pa := e.Token(t, "pa-acme")
	r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit", pa, "")
	if r.Status != 200 || strings.TrimSpace(r.Body) != `{"next_cursor":"","records":[`+oldJSON+`]}` {
		t.Fatalf("audit: %d %s\nwant {\"next_cursor\":\"\",\"records\":[%s]}", r.Status, r.Body, oldJSON)
	}
	doc := gatewaytest.BrandDoc(`{}`, "https://acme.example")
	doc = strings.Replace(doc, `"logo_zh":{},"logo_en":{}`, `"logo_zh":{"sha256":"","ext":"","width":0,"height":0},"logo_en":{"sha256":"","ext":"","width":0,"height":0}`, 1)
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	r = e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit", pa, "")
	if i, j := strings.Index(r.Body, oldJSON), strings.Index(r.Body, `"event":"branding.draft.save"`); r.Status != 200 || j < 0 || i < j {
		t.Fatalf("audit after a draft save: %d %s", r.Status, r.Body)
	}
}
