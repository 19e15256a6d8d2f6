package mypartners_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

var csrfRe = regexp.MustCompile(`name="_csrf" value="([0-9a-f]{64})"`)

// csrfOf is the form token on page, failing the test when there is none.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form token on the page:\n%s", page)
	}
	return m[1]
}

// page GETs path on the console with c (following nothing), asking for HTML.
func page(t *testing.T, e *gatewaytest.PartnersEnv, c *http.Client, path string, headers ...string) gatewaytest.Response {
	t.Helper()
	req := gatewaytest.NewRequest(t, http.MethodGet, e.ConsoleURL+path, nil, append([]string{"Accept", "text/html"}, headers...)...)
	return gatewaytest.Send(t, step(c), req)
}

// post submits form fields (name, value pairs) to path with c's cookies,
// without following the redirect; extra are headers.
func post(t *testing.T, e *gatewaytest.PartnersEnv, c *http.Client, path string, fields []string, headers ...string) gatewaytest.Response {
	t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		v.Add(fields[i], fields[i+1])
	}
	req := gatewaytest.NewRequest(t, http.MethodPost, e.ConsoleURL+path, strings.NewReader(v.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
	return gatewaytest.Send(t, step(c), req)
}

// step is c without redirect following (same cookies).
func step(c *http.Client) *http.Client {
	if c.CheckRedirect != nil {
		return c
	}
	return gatewaytest.StepBrowser(c.Jar)
}

func wantStatus(t *testing.T, what string, r gatewaytest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
}

func wantIn(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s: %q missing in:\n%s", what, s, body)
		}
	}
}

func wantNotIn(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("%s: %q present in:\n%s", what, s, body)
		}
	}
}
