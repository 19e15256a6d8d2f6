package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestComposeConfigurationIsValid checks deploy/livery.compose.yaml with
// exactly the LIVERY_* environment deploy/compose.yaml gives the gateway,
// so the compose deployment cannot drift into a configuration that exits.
func TestComposeConfigurationIsValid(t *testing.T) {
	compose, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	envLine := regexp.MustCompile(`(?m)^\s+(LIVERY_[A-Z0-9_]+):\s*(.*?)\s*(#.*)?$`)
	found := 0
	for _, m := range envLine.FindAllStringSubmatch(string(compose), -1) {
		v := strings.Trim(m[2], `"`)
		if strings.HasPrefix(v, "${") { // a value the operator supplies
			v = "placeholder"
			if m[1] == "LIVERY_SECURITY_MASTER_KEY" {
				v = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
			}
		}
		t.Setenv(m[1], v)
		found++
	}
	if found < 5 {
		t.Fatalf("found only %d LIVERY_* variables in compose.yaml", found)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "-config", "../../deploy/livery.compose.yaml"}, &out, &errb); code != 0 {
		t.Fatalf("compose configuration refused (exit %d): %s", code, errb.String())
	}
}

// TestDockerfileStampsAndProbes keeps deploy/Dockerfile consistent with
// this command: the -X variables it stamps exist here, and its HEALTHCHECK
// runs `livery healthcheck` (the image has no shell).
func TestDockerfileStampsAndProbes(t *testing.T) {
	b, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"-X main.version=", "-X main.revision=", "-X main.buildTime=",
		`HEALTHCHECK`, `CMD ["/livery", "healthcheck"]`, "EXPOSE 8080 8081 8082"} {
		if !strings.Contains(df, want) {
			t.Errorf("deploy/Dockerfile lacks %q", want)
		}
	}
	// The stamped variables are the ones ReadBuildInfo is given.
	version, revision, buildTime = "9.9.9", "cafe", "2026-01-01T00:00:00Z"
	t.Cleanup(func() { version, revision, buildTime = "", "", "" })
	checkRun(t, []string{"version"}, 0, []string{"livery 9.9.9", "revision:   cafe", "built:      2026-01-01T00:00:00Z"})
}
