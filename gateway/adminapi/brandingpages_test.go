package adminapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
)

const jsonType = "application/json"

// brandDraft stores a valid draft for acme (whatever the current one).
func brandDraft(t *testing.T, e *gatewaytest.BrandEnv, token, color string) {
	t.Helper()
	doc := gatewaytest.BrandDoc(`{}`, "https://acme.example")
	doc = strings.Replace(doc, `"logo_zh":{},"logo_en":{}`, `"logo_zh":{"sha256":"","ext":"","width":0,"height":0},"logo_en":{"sha256":"","ext":"","width":0,"height":0}`, 1)
	doc = strings.Replace(doc, "#123456", color, 1)
	r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/draft", token, "")
	etag := r.Header.Get("ETag")
	hdr := []string{"Content-Type", jsonType}
	if etag != "" {
		hdr = append(hdr, "If-Match", etag)
	}
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", token, doc, hdr...); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
}

// TestBrandingPagesAPI: the history lists page with ?limit= and
// ?cursor=, newest first, answering next_cursor; the audit trail filters;
// the queue carries due dates and overdue; bad parameters are 400
// invalid_request naming the parameter.
func TestBrandingPagesAPI(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	var ids []string
	for i, c := range []string{"#000001", "#000002", "#000003"} {
		brandDraft(t, e, pa, c)
		r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "")
		var sub struct{ ID string }
		gatewaytest.DecodeJSON(t, r.Body, &sub)
		ids = append(ids, sub.ID)
		if i < 2 {
			if r := e.API(t, "POST", "/admin/v1/reviews/acme/reject", op, `{"submission_id":"`+sub.ID+`","reason":"try again"}`, "Content-Type", jsonType); r.Status != 200 {
				t.Fatalf("reject: %d %s", r.Status, r.Body)
			}
		}
	}
	// Submissions, newest first, a page of two then one.
	var page struct {
		Submissions []struct {
			ID      string    `json:"id"`
			Tenant  string    `json:"tenant"`
			Due     time.Time `json:"due"`
			Overdue *bool     `json:"overdue"`
		} `json:"submissions"`
		Next string `json:"next_cursor"`
	}
	r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/submissions?limit=2", pa, "")
	gatewaytest.DecodeJSON(t, r.Body, &page)
	if r.Status != 200 || len(page.Submissions) != 2 || page.Submissions[0].ID != ids[2] || page.Submissions[1].ID != ids[1] || page.Next == "" {
		t.Fatalf("first page: %d %s", r.Status, r.Body)
	}
	r = e.API(t, "GET", "/admin/v1/tenants/acme/branding/submissions?limit=2&cursor="+url.QueryEscape(page.Next), pa, "")
	page.Submissions = nil
	gatewaytest.DecodeJSON(t, r.Body, &page)
	if r.Status != 200 || len(page.Submissions) != 1 || page.Submissions[0].ID != ids[0] || page.Next != "" {
		t.Fatalf("second page: %d %s", r.Status, r.Body)
	}
	// The queue: the pending one, due in three working days, not overdue.
	r = e.API(t, "GET", "/admin/v1/reviews", op, "")
	page.Submissions = nil
	gatewaytest.DecodeJSON(t, r.Body, &page)
	if r.Status != 200 || len(page.Submissions) != 1 || page.Submissions[0].ID != ids[2] || page.Submissions[0].Due.IsZero() ||
		page.Submissions[0].Overdue == nil || *page.Submissions[0].Overdue || !strings.Contains(r.Body, `"next_cursor":""`) {
		t.Fatalf("queue: %d %s", r.Status, r.Body)
	}
	// Audit filters.
	r = e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit?action=branding.reject", pa, "")
	if r.Status != 200 || strings.Count(r.Body, `"event":"branding.reject"`) != 2 || strings.Contains(r.Body, `"event":"branding.submit"`) {
		t.Fatalf("audit by action: %d %s", r.Status, r.Body)
	}
	r = e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit?actor=op-1&limit=1", pa, "")
	var recs struct {
		Records []struct{ Event string } `json:"records"`
		Next    string                   `json:"next_cursor"`
	}
	gatewaytest.DecodeJSON(t, r.Body, &recs)
	if r.Status != 200 || len(recs.Records) != 1 || recs.Records[0].Event != "branding.reject" || recs.Next == "" {
		t.Fatalf("audit by actor: %d %s", r.Status, r.Body)
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit?since="+future, pa, ""); r.Status != 200 || !strings.Contains(r.Body, `"records":[]`) {
		t.Fatalf("audit since the future: %d %s", r.Status, r.Body)
	}
	// Bad parameters name themselves.
	for _, c := range []struct{ path, param string }{
		{"/admin/v1/tenants/acme/branding/submissions?cursor=bogus", "cursor"},
		{"/admin/v1/tenants/acme/branding/versions?cursor=" + url.QueryEscape(page.Next+recs.Next), "cursor"},
		{"/admin/v1/tenants/acme/branding/submissions?cursor=" + recs.Next, "cursor"}, // the audit's cursor
		{"/admin/v1/tenants/acme/branding/versions?limit=abc", "limit"},
		{"/admin/v1/tenants/acme/branding/audit?limit=0", "limit"},
		{"/admin/v1/tenants/acme/branding/audit?since=2026-02-13", "since"},
		{"/admin/v1/tenants/acme/branding/audit?until=tomorrow", "until"},
		{"/admin/v1/tenants/acme/branding/audit?action=DROP%20TABLE", "action"},
		{"/admin/v1/reviews?limit=1000", "limit"},
		{"/admin/v1/reviews?cursor=" + recs.Next, "cursor"},
	} {
		r := e.API(t, "GET", c.path, op, "")
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `"invalid_request"`) || !strings.Contains(r.Body, c.param) {
			t.Errorf("%s: %d %s; want 400 invalid_request naming %s", c.path, r.Status, r.Body, c.param)
		}
	}
}

// TestBrandingOverviewAPI: GET /admin/v1/branding shows operators every
// configured tenant's state; partner staff are refused.
func TestBrandingOverviewAPI(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, cm, op := e.Token(t, "pa-acme"), e.Token(t, "cm-acme"), e.Token(t, "op-1")
	brandDraft(t, e, pa, "#000001")
	r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "")
	var sub struct{ ID string }
	gatewaytest.DecodeJSON(t, r.Body, &sub)
	e.API(t, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+sub.ID+`"}`, "Content-Type", jsonType)
	brandDraft(t, e, pa, "#000002")
	r = e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "")
	gatewaytest.DecodeJSON(t, r.Body, &sub)

	r = e.API(t, "GET", "/admin/v1/branding", op, "")
	var ov struct {
		Tenants []struct {
			Tenant string `json:"tenant"`
			Live   *struct {
				Version    int       `json:"version"`
				ApprovedAt time.Time `json:"approved_at"`
			} `json:"live"`
			Draft *struct {
				UpdatedBy string `json:"updated_by"`
			} `json:"draft"`
			Pending *struct {
				SubmissionID string    `json:"submission_id"`
				Due          time.Time `json:"due"`
				Overdue      bool      `json:"overdue"`
			} `json:"pending"`
			LastDecision *struct {
				Status string `json:"status"`
			} `json:"last_decision"`
		} `json:"tenants"`
	}
	gatewaytest.DecodeJSON(t, r.Body, &ov)
	if r.Status != 200 || len(ov.Tenants) < 2 {
		t.Fatalf("overview: %d %s", r.Status, r.Body)
	}
	seen := map[string]bool{}
	for _, s := range ov.Tenants {
		seen[s.Tenant] = true
		if s.Tenant != "acme" {
			continue
		}
		if s.Live == nil || s.Live.Version != 1 || s.Live.ApprovedAt.IsZero() || s.Draft == nil || s.Draft.UpdatedBy != "pa-acme" ||
			s.Pending == nil || s.Pending.SubmissionID != sub.ID || s.Pending.Due.IsZero() || s.Pending.Overdue ||
			s.LastDecision == nil || s.LastDecision.Status != "approved" {
			t.Fatalf("acme: %s", r.Body)
		}
	}
	if !seen["acme"] || !seen["globex"] {
		t.Fatalf("overview lacks a configured tenant: %s", r.Body)
	}
	for _, tok := range []string{pa, cm} {
		if r := e.API(t, "GET", "/admin/v1/branding", tok, ""); r.Status != http.StatusForbidden {
			t.Fatalf("partner staff: %d %s; want 403", r.Status, r.Body)
		}
	}
}
