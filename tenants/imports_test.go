package tenants

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoAdapterImports keeps tenants a domain package: it imports no
// adapter (Redis, MinIO, Fiber, an HTTP client or server, the rate limiter);
// those live in its sub-packages and in cmd/livery's wiring. Its only port
// to storage is internal/objstore, whose S3 driver links minio-go and
// net/http: these may appear among the dependencies, never as imports.
// Redis, Fiber and the limiter may appear in neither (e.g. through
// internal/redisx).
func TestNoAdapterImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command lists the imports: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-f", `{{join .Imports "\n"}}`+"\n--\n"+`{{join .Deps "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports, deps, ok := strings.Cut(string(out), "\n--\n")
	if !ok || !strings.Contains(imports, "context") {
		t.Fatalf("unexpected go list output:\n%s", out)
	}
	never := []string{
		"github.com/redis/go-redis", "github.com/go-redis/redis_rate", "github.com/alicebob/miniredis",
		"github.com/gofiber/fiber", "github.com/valyala/fasthttp",
		"github.com/livery/livery/tenants/ratelimit", "github.com/livery/livery/internal/redisx",
	}
	notImported := append([]string{"github.com/minio/minio-go", "net/http"}, never...)
	check := func(what, list string, forbidden []string) {
		for _, f := range forbidden {
			for _, p := range strings.Fields(list) {
				if p == f || strings.HasPrefix(p, f+"/") {
					t.Errorf("tenants %s %s (an adapter: move the code to a sub-package)", what, p)
					break
				}
			}
		}
	}
	check("imports", imports, notImported)
	check("depends on", deps, never)
}
