package gateway

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// doors are the gateway's sub-packages that own a part of the request
// path; leaves (web, exchange, preview, assertion, sessions) are shared.
var doors = []string{"console", "branded", "signin", "partnerapi", "adminapi", "staffui", "mypartners"}

// TestDoorsImportNoOtherDoor keeps the layout visible: only the gateway
// root (and internal/app, which builds the doors' options) imports a door,
// and no door or leaf imports a door or the root. It reads the real import
// graph with go list, tests' imports included.
//
// The one exception is the shared test harness, gateway/gatewaytest: it
// builds whole gateways, so it imports the root and the doors, and only
// the tests of the root and of the doors may import it (a door's tests
// reach the rest of the gateway through it, never directly).
func TestDoorsImportNoOtherDoor(t *testing.T) {
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}}|{{join .Imports " "}}|{{join .TestImports " "}}|{{join .XTestImports " "}}`,
		"github.com/livery/livery/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const root = "github.com/livery/livery/gateway"
	const harness = root + "/gatewaytest"
	door := func(p string) (string, bool) {
		name, ok := strings.CutPrefix(p, root+"/")
		return name, ok && slices.Contains(doors, name)
	}
	allowed := map[string]bool{root: true, "github.com/livery/livery/internal/app": true, harness: true}
	checked, harnessSeen := 0, false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 4 {
			t.Fatalf("go list line %q", line)
		}
		pkg := parts[0]
		checked++
		harnessSeen = harnessSeen || pkg == harness
		self, isDoor := door(pkg)
		for kind, list := range parts[1:] {
			test := kind > 0 // TestImports or XTestImports
			for _, imp := range strings.Fields(list) {
				if d, ok := door(imp); ok && d != self && !allowed[pkg] {
					t.Errorf("%s imports the door %s: only the gateway root (and internal/app) may", pkg, d)
				}
				if imp == root && strings.HasPrefix(pkg, root+"/") && pkg != harness {
					t.Errorf("%s imports the gateway root: doors and leaves sit below it", pkg)
				}
				if imp == harness && !(test && (pkg == root || isDoor)) {
					t.Errorf("%s imports %s: only the tests of the gateway root and of the doors may", pkg, harness)
				}
			}
		}
	}
	if checked < 20 || !harnessSeen {
		t.Fatalf("go list named only %d packages (harness listed: %v): %s", checked, harnessSeen, out)
	}
}
