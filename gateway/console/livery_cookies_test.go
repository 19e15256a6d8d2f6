package console_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestLiveryCookiesNeverReachUpstream: the session id stays between the
// browser and Livery; the console's own cookies pass.
func TestLiveryCookiesNeverReachUpstream(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	req := gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/headers?format=json", nil, "Host", "console.demo.test",
		"Cookie", "console_pref=dark; __Host-livery_session=secret-session-id; livery_login=secret-binding")
	resp, body := gatewaytest.Do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var echo gatewaytest.HeaderEcho
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatal(err)
	}
	if got := echo.Headers["Cookie"]; len(got) != 1 || got[0] != "console_pref=dark" {
		t.Fatalf("upstream saw Cookie %v", got)
	}
}

// TestUpstreamCannotSetLiveryCookies: Set-Cookie for Livery's names is
// dropped (no session fixation from the upstream); others pass.
func TestUpstreamCannotSetLiveryCookies(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "console_pref=dark; Path=/")
		w.Header().Add("Set-Cookie", "__Host-livery_session=attacker; Path=/; Secure")
		w.Header().Add("Set-Cookie", " livery_login=x")
		w.Write([]byte("ok"))
	}))
	t.Cleanup(up.Close)
	g := gatewaytest.StartGateway(t, up.URL)
	resp, _ := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/", nil, "Host", "console.demo.test"))
	if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != "console_pref=dark; Path=/" {
		t.Fatalf("Set-Cookie reaching the browser: %q", got)
	}
}

// TestSetCookieLinesKeptApart: cookies with one name but another path or
// domain are different cookies to a browser; every Set-Cookie line of the
// upstream reaches the client, in order, byte for byte.
func TestSetCookieLinesKeptApart(t *testing.T) {
	lines := []string{
		"pref=a; Path=/",
		"pref=b; Path=/billing",
		"pref=c; Domain=console.demo.test; Path=/",
		"other=1",
		"pref=; Path=/old; Max-Age=0",
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, l := range lines {
			w.Header().Add("Set-Cookie", l)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(up.Close)
	g := gatewaytest.StartGateway(t, up.URL)
	resp, _ := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/", nil, "Host", "console.demo.test"))
	if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, lines) {
		t.Fatalf("Set-Cookie reaching the browser:\n got %q\nwant %q", got, lines)
	}
}
