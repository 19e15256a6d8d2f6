package branded_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

func TestLanguageSwitch(t *testing.T) {
	g := gatewaytest.StartGateway(t, "http://127.0.0.1:1", func(o *gatewaytest.Options) { o.Branding = &gatewaytest.BrandingOptions{Chrome: fixedChrome{}} })
	tests := []struct {
		name, query, referer string
		status               int
		location, cookie     string
	}{
		{"back to the page", "to=zh", "http://console.demo.test/billing?x=1", http.StatusSeeOther, "/billing?x=1", "livery_lang=zh"},
		{"english", "to=en", "http://console.demo.test/", http.StatusSeeOther, "/", "livery_lang=en"},
		{"foreign referer", "to=zh", "https://evil.example/phish", http.StatusSeeOther, "/", "livery_lang=zh"},
		{"unsafe referer path", "to=zh", "http://console.demo.test//evil.example", http.StatusSeeOther, "/", "livery_lang=zh"},
		{"no referer", "to=en", "", http.StatusSeeOther, "/", "livery_lang=en"},
		{"unknown language", "to=fr", "", http.StatusBadRequest, "", ""},
		{"missing language", "", "", http.StatusBadRequest, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := []string{"Host", "console.demo.test", "Accept", "application/json"}
			if tt.referer != "" {
				h = append(h, "Referer", tt.referer)
			}
			resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/_livery/lang?"+tt.query, nil, h...))
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
				t.Fatalf("%d %q, want %d %q: %s", resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location, body)
			}
			if got := resp.Header.Get("Set-Cookie"); (tt.cookie == "") != (got == "") || !strings.HasPrefix(got, tt.cookie) {
				t.Fatalf("Set-Cookie %q, want prefix %q", got, tt.cookie)
			}
		})
	}
}

// TestUpstreamLanguage: the language chosen in the chrome (its cookie) is
// what the upstream receives in Accept-Language, for documents and other
// requests alike; without the cookie the browser's header passes as is.
func TestUpstreamLanguage(t *testing.T) {
	var got string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Accept-Language")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	}))
	defer up.Close()
	g := gatewaytest.StartGateway(t, up.URL, func(o *gatewaytest.Options) { o.Branding = &gatewaytest.BrandingOptions{Chrome: fixedChrome{}} })
	for _, tc := range []struct {
		name, cookie, accept, path, want string
	}{
		{"zh cookie", "livery_lang=zh", "en-GB,en;q=0.8", "/", "zh-CN,zh;q=0.9"},
		{"en cookie", "livery_lang=en", "zh-CN,zh;q=0.9", "/", "en-US,en;q=0.9"},
		{"en cookie, api call", "livery_lang=en", "zh-CN", "/api/v1/instances", "en-US,en;q=0.9"},
		{"en cookie, no header", "livery_lang=en", "", "/", "en-US,en;q=0.9"},
		{"no cookie", "", "fr-FR,fr;q=0.9", "/", "fr-FR,fr;q=0.9"},
		{"unknown cookie value", "livery_lang=fr", "de", "/", "de"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = "unset"
			h := []string{"Host", "console.demo.test", "Accept", "application/json"}
			if tc.cookie != "" {
				h = append(h, "Cookie", tc.cookie)
			}
			if tc.accept != "" {
				h = append(h, "Accept-Language", tc.accept)
			}
			resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+tc.path, nil, h...))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d: %s", resp.StatusCode, body)
			}
			if got != tc.want {
				t.Fatalf("upstream Accept-Language %q, want %q", got, tc.want)
			}
		})
	}
}
