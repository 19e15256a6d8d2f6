package gateway

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// doors are the gateway's sub-packages that own a part of the request
// path; leaves (web, exchange, preview, assertion, sessions) are shared.
var doors = []string{"console", "branded", "signin", "partnerapi", "adminapi"}

// TestDoorsImportNoOtherDoor keeps the layout visible: only the gateway
// root (and internal/app, which builds the doors' options) imports a door,
// and no door or leaf imports a door or the root. It reads the real import
// graph with go list, tests' imports included.
func TestDoorsImportNoOtherDoor(t *testing.T) {
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`,
		"github.com/livery/livery/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const root = "github.com/livery/livery/gateway"
	door := func(p string) (string, bool) {
		name, ok := strings.CutPrefix(p, root+"/")
		return name, ok && slices.Contains(doors, name)
	}
	allowed := map[string]bool{root: true, "github.com/livery/livery/internal/app": true}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		checked++
		self, _ := door(pkg)
		for _, imp := range imports {
			if d, ok := door(imp); ok && d != self && !allowed[pkg] {
				t.Errorf("%s imports the door %s: only the gateway root (and internal/app) may", pkg, d)
			}
			if imp == root && strings.HasPrefix(pkg, root+"/") {
				t.Errorf("%s imports the gateway root: doors and leaves sit below it", pkg)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("go list named only %d packages: %s", checked, out)
	}
}
