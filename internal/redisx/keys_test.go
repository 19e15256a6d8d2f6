package redisx

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestKeyPrefixesHaveOneHome: no Go file of the module but keys.go spells
// a Redis key or channel literal ("livery:<something>:…"); they use the
// constants of keys.go. Tests may spell keys to check them.
func TestKeyPrefixesHaveOneHome(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	literal := regexp.MustCompile(`"livery:[a-z]+:`)
	seen := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		seen++
		if filepath.Base(path) == "keys.go" && filepath.Base(filepath.Dir(path)) == "redisx" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllIndex(b, -1) {
			line := 1 + strings.Count(string(b[:m[0]]), "\n")
			t.Errorf("%s:%d spells a Redis key prefix; use the constant in internal/redisx/keys.go", path, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 50 {
		t.Fatalf("only %d Go files under %s: wrong root?", seen, root)
	}
}
