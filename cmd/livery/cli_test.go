package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCLIHelpAndErrors: help lists every command and exits 0, each
// command's -h exits 0, and bad input exits 2 as documented.
func TestCLIHelpAndErrors(t *testing.T) {
	commands := []string{"serve", "check-config", "keys", "reindex", "store copy", "policy check", "healthcheck", "version", "help"}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"-h lists every command", []string{"-h"}, 0, commands},
		{"--help", []string{"--help"}, 0, commands},
		{"help", []string{"help"}, 0, commands},
		{"--version", []string{"--version"}, 0, []string{"livery ", "revision:", "built:", "go:", "go1."}},
		{"version", []string{"version"}, 0, []string{"livery ", "revision:", "built:", "go:"}},
		{"serve -h", []string{"serve", "-h"}, 0, []string{"-config"}},
		{"keys -h prints help", []string{"keys", "-h"}, 0, []string{"usage: livery keys create|list|revoke", "revoke"}},
		{"keys create -h", []string{"keys", "create", "-h"}, 0, []string{"-tenant"}},
		{"keys without tenant", []string{"keys", "list"}, 2, []string{"-tenant is required"}},
		{"keys unknown subcommand", []string{"keys", "frob", "-tenant", "demo"}, 2, []string{`unknown subcommand "frob"`}},
		{"keys unknown tenant", []string{"keys", "list", "-tenant", "nosuch"}, 2, []string{`unknown tenant "nosuch"`}},
		{"reindex unknown tenant", []string{"reindex", "-tenant", "nosuch"}, 2, []string{`unknown tenant "nosuch"`}},
		{"policy -h", []string{"policy", "-h"}, 0, []string{"usage: livery policy check"}},
		{"policy unknown role", []string{"policy", "check", "-roles", "custmer", "-obj", "/x"}, 2, []string{`role "custmer" is not defined`}},
		{"policy relative path", []string{"policy", "check", "-roles", "customer", "-obj", "x"}, 2, []string{"-obj must be a request path"}},
		{"policy bad method", []string{"policy", "check", "-roles", "customer", "-obj", "/x", "-act", "FROB"}, 2, []string{"-act must be an HTTP method"}},
		{"policy stray argument", []string{"policy", "check", "-roles", "customer", "-obj", "/x", "GET"}, 2, []string{`unexpected argument "GET"`}},
		{"policy bad flag", []string{"policy", "check", "-nope"}, 2, []string{"flag provided but not defined"}},
		{"healthcheck -h", []string{"healthcheck", "-h"}, 0, []string{"-url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRun(t, tt.args, tt.wantCode, tt.wantOut) })
	}
}

// TestHealthcheck: 0 when /readyz answers 200, 1 when it answers anything
// else or nothing; without -url it asks ops.addr of the configuration.
func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"status":"x"}`))
	}))
	defer srv.Close()
	checkRun(t, []string{"healthcheck", "-url", srv.URL + "/readyz"}, 0, []string{"ready:"})
	status = http.StatusServiceUnavailable
	checkRun(t, []string{"healthcheck", "-url", srv.URL + "/readyz"}, 1, []string{"not ready: 503"})
	status = http.StatusOK
	t.Setenv("LIVERY_OPS_ADDR", strings.TrimPrefix(srv.URL, "http://"))
	checkRun(t, []string{"healthcheck"}, 0, []string{"ready:"})
	srv.Close()
	checkRun(t, []string{"healthcheck"}, 1, []string{"not ready:"})
	t.Setenv("LIVERY_OPS_ADDR", "0.0.0.0:1") // unspecified host: loopback
	checkRun(t, []string{"healthcheck"}, 1, []string{"127.0.0.1:1"})
}
