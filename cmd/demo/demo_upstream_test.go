package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/livery/livery/cmd/democonsole/console"
)

// TestDemoExternalUpstream runs the demo in front of a console it did not
// start (as the benchmark does with a democonsole process): the printed
// upstream is that console, and sign-up on the partner platform creates the
// account through that console's account API with the token given in
// LIVERY_DEMO_ACCOUNT_TOKEN.
func TestDemoExternalUpstream(t *testing.T) {
	var accounts atomic.Int32
	h := console.New(console.Options{AccountToken: "tok-for-test"})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/_cloud/accounts" {
			accounts.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	defer up.Close()
	t.Setenv(demoTokenEnv, "tok-for-test")

	out, _ := demo(t, "-upstream", up.URL)
	o := out.String()
	if got := printed(t, o, `Demo console directly \(upstream\):\s+(http://\S+?)/?\s`); got != up.URL {
		t.Fatalf("demo fronts %s, want %s", got, up.URL)
	}
	partnerURL := printed(t, o, `Sign up on the demo partner platform:\s+(http://\S+)/`)
	resp, body := fetch(t, http.DefaultClient, "POST", partnerURL+"/signup",
		url.Values{"username": {"bob"}, "password": {"correct-horse"}, "account_name": {"bob_corp"}})
	if resp.StatusCode != http.StatusCreated || accounts.Load() != 1 {
		t.Fatalf("sign-up: %d (%d account requests at the external console) %s", resp.StatusCode, accounts.Load(), body)
	}
}

func TestDemoUpstreamBadInput(t *testing.T) {
	tests := []struct {
		name, upstream, token, want string
	}{
		{"no token", "http://127.0.0.1:9090", "", "LIVERY_DEMO_ACCOUNT_TOKEN"},
		{"https", "https://127.0.0.1:9090", "s3cr3t-t0k", "want an http URL"},
		{"no host", "http://", "s3cr3t-t0k", "want an http URL"},
		{"path", "http://127.0.0.1:9090/console", "s3cr3t-t0k", "want an http URL"},
		{"not a URL", "127.0.0.1:9090", "s3cr3t-t0k", "want an http URL"},
		{"credentials", "http://u:p@127.0.0.1:9090", "s3cr3t-t0k", "want an http URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(demoTokenEnv, tt.token)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"-console", "127.0.0.1:0", "-api", "127.0.0.1:0",
				"-partner", "127.0.0.1:0", "-cloud", "127.0.0.1:0", "-data", t.TempDir(), "-upstream", tt.upstream}, &out, &errb)
			if code != exitConfig || !strings.Contains(errb.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %q", code, errb.String(), exitConfig, tt.want)
			}
			if tt.token != "" && strings.Contains(errb.String(), tt.token) {
				t.Errorf("stderr shows a token: %q", errb.String())
			}
		})
	}
}
