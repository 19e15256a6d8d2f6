package branded_test

import (
	"net/http"
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
