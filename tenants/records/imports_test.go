package records

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImports keeps records a domain package: no Fiber, Redis, HTTP
// or configuration imports (the configuration's tenant rules are shared
// through internal/fieldcheck, not by importing internal/config).
func TestDomainImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, f := range []string{"github.com/gofiber/fiber", "github.com/valyala/fasthttp", "github.com/redis/go-redis",
			"github.com/minio/minio-go", "net/http", "github.com/livery/livery/internal/config",
			"github.com/livery/livery/internal/redisx", "github.com/livery/livery/gateway"} {
			if p == f || strings.HasPrefix(p, f+"/") {
				t.Errorf("records imports %s", p)
			}
		}
	}
}
