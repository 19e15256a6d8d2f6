package objstore_test

import (
	"context"
	"testing"

	"github.com/livery/livery/internal/objstore"
)

func TestLookupJSON(t *testing.T) {
	ctx := context.Background()
	s, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, found, err := objstore.LookupJSON[map[string]int](ctx, s, "a.json"); found || err != nil {
		t.Fatalf("missing: found %v err %v", found, err)
	}
	obj, err := objstore.PutJSON(ctx, s, "a.json", map[string]int{"n": 1}, objstore.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, etag, found, err := objstore.LookupJSON[map[string]int](ctx, s, "a.json")
	if !found || err != nil || v["n"] != 1 || etag != obj.ETag {
		t.Fatalf("present: %v %q %v %v", v, etag, found, err)
	}
	if _, err := objstore.PutBytes(ctx, s, "b.json", []byte("{"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, found, err := objstore.LookupJSON[map[string]int](ctx, s, "b.json"); found || err == nil {
		t.Fatalf("undecodable: found %v err %v", found, err)
	}
}
