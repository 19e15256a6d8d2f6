package adminapi_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image/color"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestAdminUnknownTenant: admin calls naming a tenant that is not
// configured answer 404 unknown_tenant and write nothing.
func TestAdminUnknownTenant(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	op := e.Token(t, "op-1")
	png := gatewaytest.PNGImage(t, color.RGBA{G: 200, A: 255})
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "logo.png")
	fw.Write(png)
	mw.Close()
	for _, c := range []struct{ method, path, ctype, body string }{
		{"PUT", "/admin/v1/tenants/nonexistent/branding/draft", "application/json", gatewaytest.BrandDoc(`{}`, "https://a.example")},
		{"GET", "/admin/v1/tenants/nonexistent/branding/draft", "", ""},
		{"POST", "/admin/v1/tenants/nonexistent/branding/images", mw.FormDataContentType(), mp.String()},
		{"POST", "/admin/v1/tenants/nonexistent/branding/submit", "", ""},
		{"GET", "/admin/v1/tenants/nonexistent/customers", "", ""},
		{"PUT", "/admin/v1/tenants/nonexistent/customers/x/managers", "application/json", `{"managers":["a"]}`},
		{"GET", "/admin/v1/reviews/nonexistent", "", ""},
		{"POST", "/admin/v1/reviews/nonexistent/approve", "application/json", `{"submission_id":"s"}`},
	} {
		var hdrs []string
		if c.ctype != "" {
			hdrs = []string{"Content-Type", c.ctype}
		}
		r := e.API(t, c.method, c.path, op, c.body, hdrs...)
		if r.Status != http.StatusNotFound || r.ErrorCode(t) != "unknown_tenant" {
			t.Errorf("%s %s: %d %s; want 404 unknown_tenant", c.method, c.path, r.Status, r.Body)
		}
	}
	objs, err := e.Store.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		t.Errorf("object written for an unknown tenant: %s", o.Key)
	}
	// A partner admin gets 403 for any tenant not theirs, known or not.
	pa := e.Token(t, "pa-acme")
	if r := e.API(t, "PUT", "/admin/v1/tenants/nonexistent/branding/draft", pa, gatewaytest.BrandDoc(`{}`, "https://a.example"), "Content-Type", "application/json"); r.Status != http.StatusForbidden {
		t.Fatalf("partner admin, unknown tenant: %d %s", r.Status, r.Body)
	}
}

// TestFourEyesThroughTheAPI: the operator who edited a partner's draft
// cannot approve the partner's submission of it.
func TestFourEyesThroughTheAPI(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, gatewaytest.BrandDoc(`{}`, "https://a.example"), "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("partner draft: %d %s", r.Status, r.Body)
	}
	etag := e.API(t, "GET", "/admin/v1/tenants/acme/branding/draft", op, "").Header.Get("ETag")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", op, gatewaytest.BrandDoc(`{}`, "https://op.example"), "Content-Type", "application/json", "If-Match", etag); r.Status != 200 {
		t.Fatalf("operator edit: %d %s", r.Status, r.Body)
	}
	r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "")
	if r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	id, _ := r.JSON(t)["id"].(string)
	r = e.API(t, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+id+`"}`, "Content-Type", "application/json")
	if r.Status != http.StatusForbidden || r.ErrorCode(t) != "self_approval" {
		t.Fatalf("approval by the editing operator: %d %s; want 403 self_approval", r.Status, r.Body)
	}
}

// TestAdminOversizedBodyCode: a body over the API listener's limit on the
// admin API gets the admin code for it (413 too_large), not a code made
// from the status text. The request announces a 2 MiB body and sends one
// byte of it: the gateway answers from Content-Length, and a client still
// writing the body when the gateway closes would see a reset instead of
// the answer.
func TestAdminOversizedBodyCode(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(e.APIURL, "http://"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "PUT /admin/v1/tenants/acme/branding/draft HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{", e.Token(t, "pa-acme"), 2<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := gatewaytest.Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if r.Status != http.StatusRequestEntityTooLarge || r.ErrorCode(t) != "too_large" {
		t.Fatalf("oversized admin body: %d %s; want 413 too_large", r.Status, r.Body)
	}
}
