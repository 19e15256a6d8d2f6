package signin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/signin"
)

// TestProbeIssuer: each way discovery fails is named, the response body
// is never echoed, and a good document passes.
func TestProbeIssuer(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := srv.URL + strings.TrimSuffix(r.URL.Path, "/.well-known/openid-configuration")
		doc := map[string]any{"issuer": base, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
			"jwks_uri": base + "/jwks"}
		switch {
		case strings.HasPrefix(r.URL.Path, "/notjson/"):
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>secret internal page</html>"))
			return
		case strings.HasPrefix(r.URL.Path, "/missing/"):
			return
		case strings.HasPrefix(r.URL.Path, "/mismatch/"):
			doc["issuer"] = "https://elsewhere.example"
		case strings.HasPrefix(r.URL.Path, "/noendpoints/"):
			delete(doc, "token_endpoint")
			delete(doc, "jwks_uri")
		case !strings.HasPrefix(r.URL.Path, "/good/"):
			http.Error(w, "secret internal page", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		issuer, reason, detail string
	}{
		{srv.URL + "/good", "", ""},
		{"ftp://x.example", signin.ProbeInvalidURL, ""},
		{"not a url", signin.ProbeInvalidURL, ""},
		{closed, signin.ProbeUnreachable, "refused"},
		{"http://nosuch.invalid", signin.ProbeUnreachable, ""},
		{srv.URL + "/gone", signin.ProbeHTTPStatus, "HTTP 404"},
		{srv.URL + "/notjson", signin.ProbeNotJSON, ""},
		{srv.URL + "/mismatch", signin.ProbeIssuerMismatch, "elsewhere.example"},
		{srv.URL + "/noendpoints", signin.ProbeMissingEndpoints, "token_endpoint, jwks_uri"},
	} {
		t.Run(tc.issuer, func(t *testing.T) {
			err := signin.ProbeIssuer(context.Background(), tc.issuer)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			var pe *signin.ProbeError
			if !errors.As(err, &pe) || pe.Reason != tc.reason {
				t.Fatalf("want reason %s, got %v", tc.reason, err)
			}
			if !strings.Contains(pe.Detail, tc.detail) || strings.Contains(pe.EN()+pe.ZH(), "secret internal") {
				t.Fatalf("detail %q (want %q): %s / %s", pe.Detail, tc.detail, pe.EN(), pe.ZH())
			}
			if pe.EN() == "" || !strings.ContainsRune(pe.ZH(), '：') || pe.DetailZH == "" || pe.ReasonCode() != tc.reason {
				t.Fatalf("texts: %q %q", pe.EN(), pe.ZH())
			}
		})
	}
}
