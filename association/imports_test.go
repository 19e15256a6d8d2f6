package association

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoAdapterImports keeps association a domain package: no Fiber, no
// gateway, no Redis, no HTTP; its only port to storage is
// internal/objstore (whose S3 driver may appear among the dependencies).
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
		"github.com/redis/go-redis", "github.com/gofiber/fiber", "github.com/valyala/fasthttp",
		"github.com/livery/livery/gateway", "github.com/livery/livery/internal/redisx",
		"github.com/livery/livery/delegation", "github.com/livery/livery/tenants",
	}
	for what, list := range map[string]string{"imports": imports, "depends on": deps} {
		forbidden := never
		if what == "imports" {
			forbidden = append([]string{"github.com/minio/minio-go", "net/http"}, never...)
		}
		for _, f := range forbidden {
			for _, p := range strings.Fields(list) {
				if p == f || strings.HasPrefix(p, f+"/") {
					t.Errorf("association %s %s (an adapter or another domain: reach it through an interface)", what, p)
				}
			}
		}
	}
}
