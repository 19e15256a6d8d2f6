package main

import (
	"os"
	"strings"
	"testing"
)

// The compose stack and its configuration are checked in deploy/ (package
// deploy_test), with the secrets it mounts.

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
