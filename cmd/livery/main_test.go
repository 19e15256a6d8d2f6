package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`
consle: {}
tenants:
  - {id: a1, name: {zh: 甲, en: A}, hosts: [a.example], upstream: "http://u"}
  - {id: b1, name: {zh: 乙, en: B}, hosts: [A.example]}
  - {id: c1, name: {zh: 丙, en: C}, hosts: [c.example], upstream: "ftp://x"}
`), 0o600)
	malformed := filepath.Join(dir, "malformed.yaml")
	os.WriteFile(malformed, []byte("tenants: [\n"), 0o600)

	badPolicy := filepath.Join(dir, "policy.csv")
	os.WriteFile(badPolicy, []byte("p, customer, *, overview, GET, allow\n"), 0o600)
	badKey := filepath.Join(dir, "key.pem")
	os.WriteFile(badKey, []byte("not a key"), 0o600)
	badAreas := filepath.Join(dir, "areas.yaml")
	os.WriteFile(badAreas, []byte("tenants: [{id: acme, name: {zh: 甲, en: A}, hosts: [a.example], upstream: http://127.0.0.1:1}]\n"+
		"branding:\n  console: {menus: {resources: \"#res}{\"}, nav: \"#nav<x>\"}\n  cloud_logo: {url_en: \"javascript:x\"}\n"), 0o600)
	refs := filepath.Join(dir, "refs.yaml")
	os.WriteFile(refs, []byte("authz: {policy_file: "+badPolicy+"}\nidentity: {assertion_keys: ["+badKey+"]}\n"+
		"tenants: [{id: acme, name: {zh: 甲, en: A}, hosts: [a.example], upstream: http://127.0.0.1:1}]\n"), 0o600)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"embedded defaults", []string{"check-config"}, 0, []string{"configuration ok: 1 tenant(s), store dir, redis embedded"}},
		{"every problem listed", []string{"check-config", "-config", bad}, 2, []string{
			"field consle not found", "tenants[1].upstream: is required", `tenants[1].hosts[0]: host "a.example" is already used by tenants[0]`,
			"tenants[2].upstream: must be an absolute http(s) URL"}},
		{"unusable referenced files", []string{"check-config", "-config", refs}, 2, []string{
			"2 problem(s)", "authz.policy_file:", `line 1: object "overview" must start with /`,
			"identity.assertion_keys[0] (" + badKey + "): no PEM block"}},
		{"console selectors", []string{"check-config", "-config", badAreas}, 2, []string{"3 problem(s)",
			"branding.console.menus.resources: must not contain", "branding.console.nav: must not contain",
			"branding.cloud_logo.url_en:"}},
		{"malformed yaml", []string{"check-config", "-config", malformed}, 2, []string{"yaml:"}},
		{"missing file", []string{"check-config", "-config", filepath.Join(dir, "nope.yaml")}, 2, []string{"nope.yaml"}},
		{"serve refuses bad config", []string{"serve", "-config", bad}, 2, []string{"tenants[1].upstream"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"demo is its own command", []string{"demo", "-console", "127.0.0.1:0"}, 2, []string{"go run ./cmd/demo"}},
		{"version", []string{"version"}, 0, []string{"livery "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRun(t, tt.args, tt.wantCode, tt.wantOut) })
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkRun runs the livery command line with args and checks its exit
// status and that its output contains every wantOut.
func checkRun(t *testing.T, args []string, wantCode int, wantOut []string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	all := out.String() + errb.String()
	if code != wantCode {
		t.Fatalf("exit %d, want %d:\n%s", code, wantCode, all)
	}
	for _, w := range wantOut {
		if !strings.Contains(all, w) {
			t.Errorf("output lacks %q:\n%s", w, all)
		}
	}
}

// TestCheckConfigUnknownEnv: a LIVERY_* variable that is no setting fails
// check-config (exit 2, naming it); a real override and a tool variable
// do not.
func TestCheckConfigUnknownEnv(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		code      int
		want      string
	}{
		{"misspelt", "LIVERY_STORE_S3_BUCKT", 2, "LIVERY_STORE_S3_BUCKT"},
		{"tenant past the list", "LIVERY_TENANTS_3_UPSTREAM", 2, "LIVERY_TENANTS_3_UPSTREAM"},
		{"a setting", "LIVERY_STAFF_ROLE_MAP", 0, "configuration ok"},
		{"a tool variable", "LIVERY_CONFIG", 0, "configuration ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.env, "")
			if tc.env == "LIVERY_STAFF_ROLE_MAP" {
				t.Setenv(tc.env, "ops=operator")
			}
			checkRun(t, []string{"check-config"}, tc.code, []string{tc.want})
		})
	}
}
