package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/association"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/adminapi"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/openapi"
)

// loadDoc parses and validates one embedded document (OpenAPI 3.1 with
// kin-openapi's JSON Schema 2020-12 support).
func loadDoc(t testing.TB, data []byte) *openapi3.T {
	t.Helper()
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(data)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("document is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestOpenAPIDocumentsValid(t *testing.T) {
	for name, data := range map[string][]byte{"partner": openapi.Partner(), "admin": openapi.Admin()} {
		t.Run(name, func(t *testing.T) { loadDoc(t, data) })
	}
}

// documented lists a document's operations as "METHOD /path/{param}".
func documented(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// registered lists the API listener's routes under prefix, Fiber's
// ":param" written as OpenAPI's "{param}"; HEAD (Fiber's twin of every
// GET) and Use middleware are left out.
func registered(app *fiber.App, prefix string) []string {
	seen := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || !strings.HasPrefix(r.Path, prefix) {
			continue
		}
		segs := strings.Split(strings.TrimSuffix(r.Path, "/"), "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") {
				segs[i] = "{" + s[1:] + "}"
			}
		}
		seen[r.Method+" "+strings.Join(segs, "/")] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIRoutes: every route on the API listener under /v2 and
// /admin/v1 is in its document, and every documented operation is a
// route. The admin side runs on a gateway with every admin option wired
// (branding workflow, preview, reviews, delegations, keys, staff).
func TestOpenAPIRoutes(t *testing.T) {
	pe := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{})
	// The admin gateway with every optional part wired: branding (the UI
	// and preview), delegation with the switch role.
	var del *delegation.Service
	var signer *assertion.Signer
	be := gatewaytest.NewBrandEnvOn(t, nil, render.DefaultUpstream(), withSwitch(t, &del, &signer),
		gatewaytest.WithAssociations(func(e *gatewaytest.StaffEnv) adminapi.Associations {
			return association.New(e.Store, association.Options{Accounts: &gatewaytest.AccountBook{}, Logger: slog.New(slog.DiscardHandler)})
		}, nil))
	for _, tc := range []struct {
		prefix string
		app    *fiber.App
		doc    []byte
		min    int
	}{
		{"/v2/", pe.GW.APIApp(), openapi.Partner(), 4},
		{"/admin/v1/", be.Gateway().APIApp(), openapi.Admin(), 30},
	} {
		got, want := registered(tc.app, tc.prefix), documented(loadDoc(t, tc.doc))
		if len(got) < tc.min {
			t.Fatalf("%s: only %d routes found: %v", tc.prefix, len(got), got)
		}
		for _, r := range got {
			if !slices.Contains(want, r) {
				t.Errorf("route %s is not documented in the OpenAPI document", r)
			}
		}
		for _, d := range want {
			if !slices.Contains(got, d) {
				t.Errorf("documented operation %s is not a route", d)
			}
		}
	}
}

// TestOpenAPIServed: both documents are public on the API listener, as
// embedded.
func TestOpenAPIServed(t *testing.T) {
	pe := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{})
	for path, want := range map[string][]byte{openapi.PartnerPath: openapi.Partner(), openapi.AdminPath: openapi.Admin()} {
		resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", pe.APIURL+path, nil))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || body != string(want) {
			t.Errorf("GET %s: %d %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil || v["openapi"] != "3.1.0" {
			t.Errorf("GET %s: not an OpenAPI 3.1 document: %v", path, err)
		}
	}
	resp, _ := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", pe.ConsoleURL+openapi.PartnerPath, nil, "Host", "console.pa.test"))
	if resp.StatusCode == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("the console listener serves %s", openapi.PartnerPath)
	}
}
