package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoDemo keeps the demo out of the production binary: the
// demo console, the demo partner platform and its provider, and the Huawei
// Cloud SDK (which the demo platform uses) live in cmd/demo's graph only.
func TestBinaryLinksNoDemo(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 50 || !strings.Contains(string(out), "github.com/livery/livery/internal/app") {
		t.Fatalf("go list -deps listed %d packages, without internal/app:\n%s", len(pkgs), out)
	}
	for _, p := range pkgs {
		for _, bad := range []string{"/cmd/demo", "/cmd/democonsole", "/cmd/demopartner", "huaweicloud"} {
			if strings.Contains(p, bad) {
				t.Errorf("cmd/livery links %s (matches %q)", p, bad)
				break
			}
		}
	}
}
