package objstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
)

func newDir(t *testing.T) objstore.Store {
	d, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	return d
}

func TestDirConformance(t *testing.T) {
	objstoretest.Run(t, newDir)
}

// Keys "a" and "a/b" coexist; nothing but objects shows up in List, and
// keys that look like internal names are ordinary keys.
func TestDirLayout(t *testing.T) {
	ctx := context.Background()
	d, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "a/b", "o-a", "d-a/t-x", "locks/x", "objects", ".lock"} {
		if _, err := objstore.PutBytes(ctx, d, k, []byte(k), objstore.PutOptions{IfNoneMatch: true}); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	l, err := d.List(ctx, "")
	if err != nil || len(l) != 7 {
		t.Fatalf("List = %+v %v", l, err)
	}
	for _, o := range l {
		b, _, err := objstore.GetBytes(ctx, d, o.Key)
		if err != nil || string(b) != o.Key {
			t.Fatalf("Get(%q) = %q %v", o.Key, b, err)
		}
	}
	// No temp files are left behind.
	filepath.Walk(d.Root(), func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(fi.Name(), "t-") {
			t.Errorf("leftover temp file %s", p)
		}
		return nil
	})
	// Deleting prunes empty directories.
	if err := d.Delete(ctx, "d-a/t-x"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Root(), "objects", "d-d-a")); !os.IsNotExist(err) {
		t.Errorf("empty directory not pruned: %v", err)
	}
}

func TestDirPingFailsWhenRootGone(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	d, err := objstore.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	os.RemoveAll(root)
	if err := d.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeded with root removed")
	}
}
