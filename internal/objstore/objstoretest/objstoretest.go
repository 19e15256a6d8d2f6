// Package objstoretest is the conformance suite every objstore.Store driver
// must pass. Drivers call Run from their tests with a constructor that
// returns a fresh, empty store.
package objstoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// Run runs the conformance suite. newStore must return a fresh, empty store
// each call (subtests run in parallel, each with its own store).
func Run(t *testing.T, newStore func(t *testing.T) objstore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s objstore.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"ContentType", testContentType},
		{"OverwriteChangesETag", testOverwrite},
		{"CreateOnly", testCreateOnly},
		{"CompareAndSwap", testCAS},
		{"IfMatchMissing", testIfMatchMissing},
		{"ConcurrentCreateOnly", testConcurrentCreate},
		{"ConcurrentCASCounter", testConcurrentCAS},
		{"Delete", testDelete},
		{"List", testList},
		{"InvalidKeys", testInvalidKeys},
		{"LargeObject", testLarge},
		{"EmptyObject", testEmpty},
		{"UnknownSize", testUnknownSize},
		{"SizeMismatch", testSizeMismatch},
		{"CancelledContext", testCancelled},
		{"Deadline", testDeadline},
		{"Ping", func(t *testing.T, s objstore.Store) {
			if err := s.Ping(ctx(t)); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func put(t *testing.T, s objstore.Store, key, body string, opts objstore.PutOptions) objstore.Object {
	t.Helper()
	o, err := objstore.PutBytes(ctx(t), s, key, []byte(body), opts)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return o
}

func mustGet(t *testing.T, s objstore.Store, key string) (string, objstore.Object) {
	t.Helper()
	b, o, err := objstore.GetBytes(ctx(t), s, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(b), o
}

func testRoundTrip(t *testing.T, s objstore.Store) {
	before := time.Now().Add(-time.Minute)
	p := put(t, s, "a/b/c.txt", "hello", objstore.PutOptions{})
	if p.Key != "a/b/c.txt" || p.Size != 5 || p.ETag == "" {
		t.Fatalf("Put returned %+v", p)
	}
	body, g := mustGet(t, s, "a/b/c.txt")
	if body != "hello" {
		t.Fatalf("Get body = %q", body)
	}
	st, err := s.Stat(ctx(t), "a/b/c.txt")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	for _, o := range []objstore.Object{g, st} {
		if o.Key != p.Key || o.Size != 5 || o.ETag != p.ETag || o.ContentType != objstore.DefaultContentType {
			t.Fatalf("metadata %+v inconsistent with Put %+v", o, p)
		}
		if o.Modified.Before(before) || o.Modified.After(time.Now().Add(time.Minute)) {
			t.Fatalf("Modified = %v, not around now", o.Modified)
		}
		if o.ETag[0] == '"' {
			t.Fatalf("ETag %q is quoted", o.ETag)
		}
	}
	l, err := s.List(ctx(t), "a/")
	if err != nil || len(l) != 1 || l[0].ETag != p.ETag || l[0].Size != 5 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	if _, err := s.Stat(ctx(t), "a/b"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Stat(prefix dir) err = %v, want ErrNotFound", err)
	}
}

func testContentType(t *testing.T, s objstore.Store) {
	put(t, s, "doc.json", `{"a":1}`, objstore.PutOptions{ContentType: "application/json"})
	_, g := mustGet(t, s, "doc.json")
	st, _ := s.Stat(ctx(t), "doc.json")
	if g.ContentType != "application/json" || st.ContentType != "application/json" {
		t.Fatalf("content type get=%q stat=%q", g.ContentType, st.ContentType)
	}
	type doc struct{ A int }
	if _, err := objstore.PutJSON(ctx(t), s, "j", doc{A: 7}, objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	v, o, err := objstore.GetJSON[doc](ctx(t), s, "j")
	if err != nil || v.A != 7 || o.ContentType != "application/json" {
		t.Fatalf("GetJSON = %+v %+v %v", v, o, err)
	}
}

func testOverwrite(t *testing.T, s objstore.Store) {
	a := put(t, s, "k", "one", objstore.PutOptions{})
	b := put(t, s, "k", "two", objstore.PutOptions{})
	if a.ETag == b.ETag {
		t.Fatalf("ETag unchanged after overwrite: %q", a.ETag)
	}
	if body, o := mustGet(t, s, "k"); body != "two" || o.ETag != b.ETag {
		t.Fatalf("after overwrite: %q %+v", body, o)
	}
}

func testCreateOnly(t *testing.T, s objstore.Store) {
	first := put(t, s, "lock", "first", objstore.PutOptions{IfNoneMatch: true})
	_, err := objstore.PutBytes(ctx(t), s, "lock", []byte("second"), objstore.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("second create-only err = %v, want ErrPreconditionFailed", err)
	}
	if body, o := mustGet(t, s, "lock"); body != "first" || o.ETag != first.ETag {
		t.Fatalf("content after failed create: %q %+v", body, o)
	}
}

func testCAS(t *testing.T, s objstore.Store) {
	v1 := put(t, s, "cas", "v1", objstore.PutOptions{})
	v2 := put(t, s, "cas", "v2", objstore.PutOptions{IfMatch: v1.ETag})
	_, err := objstore.PutBytes(ctx(t), s, "cas", []byte("v3"), objstore.PutOptions{IfMatch: v1.ETag})
	if !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("stale CAS err = %v, want ErrPreconditionFailed", err)
	}
	if body, o := mustGet(t, s, "cas"); body != "v2" || o.ETag != v2.ETag {
		t.Fatalf("content after stale CAS: %q %+v", body, o)
	}
	// Quoted ETags are accepted too.
	put(t, s, "cas", "v4", objstore.PutOptions{IfMatch: `"` + v2.ETag + `"`})
	if body, _ := mustGet(t, s, "cas"); body != "v4" {
		t.Fatalf("after quoted CAS: %q", body)
	}
}

func testIfMatchMissing(t *testing.T, s objstore.Store) {
	_, err := objstore.PutBytes(ctx(t), s, "missing", []byte("x"), objstore.PutOptions{IfMatch: "0123456789abcdef0123456789abcdef"})
	if !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("IfMatch on missing key err = %v, want ErrPreconditionFailed", err)
	}
	if _, err := s.Stat(ctx(t), "missing"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Stat after failed IfMatch: %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s objstore.Store) {
	put(t, s, "d/x", "x", objstore.PutOptions{})
	if err := s.Delete(ctx(t), "d/x"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, _, err := s.Get(ctx(t), "d/x"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get after delete err = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx(t), "d/x"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Stat after delete err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx(t), "d/x"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if err := s.Delete(ctx(t), "never/existed"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
	// Re-create after delete (also after the dir driver pruned directories).
	put(t, s, "d/x", "again", objstore.PutOptions{IfNoneMatch: true})
	if l, err := s.List(ctx(t), ""); err != nil || len(l) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
}

func testList(t *testing.T, s objstore.Store) {
	// No key equals another key's "directory" (e.g. both "t" and "t/a"):
	// MinIO's recursive listing hides keys below such an object, so that is
	// outside the portable contract (see the objstore package doc).
	keys := []string{"t/b/2", "t/a", "t/b/1", "t/ab", "t/b/10", "t2/x", "u", "s"}
	for _, k := range keys {
		put(t, s, k, k, objstore.PutOptions{})
	}
	cases := map[string][]string{
		"t/":    {"t/a", "t/ab", "t/b/1", "t/b/10", "t/b/2"},
		"t/a":   {"t/a", "t/ab"},
		"t/b/":  {"t/b/1", "t/b/10", "t/b/2"},
		"t/b/1": {"t/b/1", "t/b/10"},
		"t":     {"t/a", "t/ab", "t/b/1", "t/b/10", "t/b/2", "t2/x"},
		"":      {"s", "t/a", "t/ab", "t/b/1", "t/b/10", "t/b/2", "t2/x", "u"},
		"nope":  {},
		"t/c/":  {},
	}
	for prefix, want := range cases {
		got, err := s.List(ctx(t), prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		var gotKeys []string
		for _, o := range got {
			gotKeys = append(gotKeys, o.Key)
			if o.Size != int64(len(o.Key)) || o.ETag == "" {
				t.Errorf("List(%q) entry %+v has bad metadata", prefix, o)
			}
		}
		if len(gotKeys) != len(want) {
			t.Errorf("List(%q) = %q, want %q", prefix, gotKeys, want)
			continue
		}
		for i := range want {
			if gotKeys[i] != want[i] {
				t.Errorf("List(%q) = %q, want %q", prefix, gotKeys, want)
				break
			}
		}
	}
}

// InvalidKeys is the table of keys every driver must refuse.
var InvalidKeys = []string{
	"", "/abs", "../etc/passwd", "a/../b", "a/./b", ".", "..", "a/..", "a\\b", "a//b", "a/",
	"nul\x00", "ctl\x01x", "tab\tx", "new\nline", "del\x7f", "\xff\xfe", string(make([]byte, 1025)),
}

func testInvalidKeys(t *testing.T, s objstore.Store) {
	c := ctx(t)
	for _, k := range InvalidKeys {
		check := func(op string, err error) {
			if !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("%s(%q) err = %v, want ErrInvalidKey", op, k, err)
			}
		}
		_, _, err := s.Get(c, k)
		check("Get", err)
		_, err = s.Put(c, k, bytes.NewReader(nil), 0, objstore.PutOptions{})
		check("Put", err)
		check("Delete", s.Delete(c, k))
		_, err = s.Stat(c, k)
		check("Stat", err)
	}
	for _, p := range []string{"/abs", "../", "a//", "a/../", "a\\", "x\x00"} {
		if _, err := s.List(c, p); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("List(%q) err = %v, want ErrInvalidKey", p, err)
		}
	}
	if l, err := s.List(c, ""); err != nil || len(l) != 0 {
		t.Errorf("store not empty after invalid puts: %+v %v", l, err)
	}
}

func testLarge(t *testing.T, s objstore.Store) {
	data := make([]byte, 8<<20+13)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	o, err := s.Put(ctx(t), "big/blob", bytes.NewReader(data), int64(len(data)), objstore.PutOptions{IfNoneMatch: true})
	if err != nil || o.Size != int64(len(data)) {
		t.Fatalf("Put big: %+v %v", o, err)
	}
	rc, g, err := s.Get(ctx(t), "big/blob")
	if err != nil {
		t.Fatalf("Get big: %v", err)
	}
	defer rc.Close()
	// Read in small chunks to exercise streaming.
	var got bytes.Buffer
	if _, err := io.CopyBuffer(&got, struct{ io.Reader }{rc}, make([]byte, 4096)); err != nil {
		t.Fatalf("read big: %v", err)
	}
	if g.Size != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("big object mismatch: size %d, read %d bytes", g.Size, got.Len())
	}
}

func testEmpty(t *testing.T, s objstore.Store) {
	o := put(t, s, "empty", "", objstore.PutOptions{IfNoneMatch: true})
	if o.Size != 0 || o.ETag == "" {
		t.Fatalf("Put empty = %+v", o)
	}
	body, g := mustGet(t, s, "empty")
	if body != "" || g.Size != 0 || g.ETag != o.ETag {
		t.Fatalf("Get empty = %q %+v", body, g)
	}
	put(t, s, "empty", "now full", objstore.PutOptions{IfMatch: o.ETag})
}

func testUnknownSize(t *testing.T, s objstore.Store) {
	r := io.MultiReader(bytes.NewReader([]byte("stream")), bytes.NewReader([]byte("ed")))
	o, err := s.Put(ctx(t), "unk", r, -1, objstore.PutOptions{})
	if err != nil || o.Size != 8 {
		t.Fatalf("Put unknown size: %+v %v", o, err)
	}
	r = io.MultiReader(bytes.NewReader([]byte("cond")))
	if _, err := s.Put(ctx(t), "unk", r, -1, objstore.PutOptions{IfMatch: o.ETag}); err != nil {
		t.Fatalf("conditional Put unknown size: %v", err)
	}
	if _, err := s.Put(ctx(t), "unk", bytes.NewReader([]byte("x")), -1, objstore.PutOptions{IfNoneMatch: true}); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("create-only unknown size on existing key: %v", err)
	}
	if body, _ := mustGet(t, s, "unk"); body != "cond" {
		t.Fatalf("body = %q", body)
	}
}

func testSizeMismatch(t *testing.T, s objstore.Store) {
	put(t, s, "sz", "orig", objstore.PutOptions{})
	for _, size := range []int64{3, 10} {
		if _, err := s.Put(ctx(t), "sz", bytes.NewReader([]byte("12345")), size, objstore.PutOptions{}); err == nil {
			t.Errorf("Put with size %d for 5 bytes succeeded", size)
		}
	}
	if body, _ := mustGet(t, s, "sz"); body != "orig" {
		t.Fatalf("body after failed puts = %q", body)
	}
}
