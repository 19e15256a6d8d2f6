package gateway_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/web"
)

// TestPreviewNeverInCustomerSession: a preview link opened in a browser
// holding a customer session shows the live branding and sets no marker;
// a marker met alongside a customer session is ended. Both are audited.
func TestPreviewNeverInCustomerSession(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	doc := gatewaytest.BrandDoc(`{}`, "https://preview.acme.example")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, ""); r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	link := func() string {
		r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/preview", op, "")
		var l struct{ URL string }
		gatewaytest.DecodeJSON(t, r.Body, &l)
		if l.URL == "" {
			t.Fatalf("no preview link: %d %s", r.Status, r.Body)
		}
		return l.URL
	}
	shows := func(c *http.Client) bool {
		_, body, _ := e.Page(t, c, "/page")
		return strings.Contains(body, "livery-preview-ribbon") || strings.Contains(body, "preview.acme.example")
	}
	refusals := func() int {
		r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit", op, "")
		return strings.Count(r.Body, `"branding.preview.refused"`)
	}

	// 1. A customer opens a preview link.
	customer, _ := e.CustomerSignIn(t)
	resp, _ := gatewaytest.Get(t, customer, link())
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/" {
		t.Fatalf("customer's preview link: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if v := gatewaytest.CookieValue(customer, e.ConsoleURL, "livery_preview"); v != "" {
		t.Fatalf("customer got a preview marker %q", v)
	}
	if shows(customer) {
		t.Fatal("customer sees the unreviewed branding")
	}
	if n := refusals(); n != 1 {
		t.Fatalf("%d preview refusals audited; want 1", n)
	}

	// 2. A staff browser in preview signs in as a customer.
	b := gatewaytest.StaffBrowser()
	if resp, _ := gatewaytest.Get(t, b, link()); resp.StatusCode != 200 || !shows(b) {
		t.Fatalf("staff preview did not start (%d)", resp.StatusCode)
	}
	marker := gatewaytest.CookieValue(b, e.ConsoleURL, "livery_preview")
	e.IDP.SetAutoLogin("cust-1")
	gatewaytest.Get(t, b, e.ConsoleURL+"/_livery/login?rd=/resources")
	e.IDP.SetAutoLogin("")
	if gatewaytest.CookieValue(b, e.ConsoleURL, "livery_session") == "" {
		t.Fatal("customer sign-in did not complete")
	}
	if shows(b) {
		t.Fatal("the preview marker is honoured inside a customer session")
	}
	if n, err := e.RDB.Exists(context.Background(), preview.KeyPrefix+"marker:"+web.HashToken(marker)).Result(); err != nil || n != 0 {
		t.Fatalf("marker record still in Redis (%d, %v)", n, err)
	}
	if n := refusals(); n != 2 {
		t.Fatalf("%d preview refusals audited; want 2", n)
	}
}

// TestPreviewLinkOnlyFromItsMinter: a preview link works only from the
// client address that requested it; a forwarded link is refused and
// audited.
func TestPreviewLinkOnlyFromItsMinter(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, gatewaytest.BrandDoc(`{}`, "https://preview.acme.example"), "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	mint := func() string {
		r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/preview?source=draft", op, "") // from 127.0.0.1
		var l struct{ URL string }
		gatewaytest.DecodeJSON(t, r.Body, &l)
		return l.URL
	}
	elsewhere := gatewaytest.StaffBrowser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	elsewhere.Transport = &http.Transport{DialContext: d.DialContext}
	if resp, _ := gatewaytest.Get(t, elsewhere, mint()); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forwarded preview link: %d; want 403", resp.StatusCode)
	}
	if v := gatewaytest.CookieValue(elsewhere, e.ConsoleURL, "livery_preview"); v != "" {
		t.Fatal("a forwarded link set a preview marker")
	}
	r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit", op, "")
	if !strings.Contains(r.Body, "another address") {
		t.Fatalf("forwarded link not audited: %s", r.Body)
	}
	if resp, _ := gatewaytest.Get(t, gatewaytest.StaffBrowser(), mint()); resp.StatusCode != 200 {
		t.Fatalf("preview link from its minter's address: %d", resp.StatusCode)
	}
}
