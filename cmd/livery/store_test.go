package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/testenv"
)

// TestStoreCopyInput: help exits 0; a missing, unknown or identical store
// and a source that is no store exit 2 before anything is opened.
func TestStoreCopyInput(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if _, err := objstore.NewDir(src); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(mustWd(t), src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"store -h", []string{"store", "-h"}, 0, "usage: livery store copy"},
		{"copy -h", []string{"store", "copy", "-h"}, 0, "-verify"},
		{"no subcommand", []string{"store"}, 2, "usage: livery store copy"},
		{"unknown subcommand", []string{"store", "move"}, 2, `unknown subcommand "move"`},
		{"no -from", []string{"store", "copy", "-to", "s3"}, 2, "-from is required"},
		{"no -to", []string{"store", "copy", "-from", "dir:" + src}, 2, "-to is required"},
		{"unknown spec", []string{"store", "copy", "-from", "dir:" + src, "-to", "gcs"}, 2, `-to "gcs": want dir:PATH or s3`},
		{"empty dir spec", []string{"store", "copy", "-from", "dir:", "-to", "s3"}, 2, `-from "dir:"`},
		{"same dir", []string{"store", "copy", "-from", "dir:" + src, "-to", "dir:" + rel + "/"}, 2, "are the same store"},
		{"s3 to s3", []string{"store", "copy", "-from", "s3", "-to", "s3"}, 2, "are the same store"},
		{"source not a store", []string{"store", "copy", "-from", "dir:" + filepath.Join(dir, "typo"), "-to", "dir:" + src}, 2, "not a Livery store directory"},
		{"s3 unconfigured", []string{"store", "copy", "-from", "dir:" + src, "-to", "s3"}, 2, "s3 needs store.s3.endpoint and store.s3.bucket"},
		{"stray argument", []string{"store", "copy", "-from", "dir:" + src, "-to", "s3", "now"}, 2, `unexpected argument "now"`},
		{"bad flag", []string{"store", "copy", "-force"}, 2, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRun(t, tc.args, tc.code, []string{tc.want}) })
	}
}

func mustWd(t *testing.T) string {
	t.Helper()
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestStoreCopy: dir→dir through the command line: everything copied and
// verified, a re-run copies nothing, a conflicting object fails the run
// (exit 1) by name and stays as it was.
func TestStoreCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	from, to := filepath.Join(dir, "data"), filepath.Join(dir, "copy")
	src, err := objstore.NewDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tenants/acme/customers/c1.json", "tenants/acme/customers/c2.json", "branding/acme/v1/logo.png"} {
		if _, err := objstore.PutBytes(ctx, src, k, []byte("body of "+k), objstore.PutOptions{ContentType: "application/json"}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"store", "copy", "-from", "dir:" + from, "-to", "dir:" + to}
	checkRun(t, args, 0, []string{"3 object(s) in the source: 3 copied (", "0 already there, 0 conflict(s)",
		"verified: 3 object(s) identical in both stores, 0 mismatch(es)"})
	dst, err := objstore.NewDir(to)
	if err != nil {
		t.Fatal(err)
	}
	if b, obj, err := objstore.GetBytes(ctx, dst, "branding/acme/v1/logo.png"); err != nil || string(b) != "body of branding/acme/v1/logo.png" || obj.ContentType != "application/json" {
		t.Fatalf("copied object: %q %+v %v", b, obj, err)
	}
	checkRun(t, args, 0, []string{"3 object(s) in the source: 0 copied (0 B), 3 already there"})

	if _, err := objstore.PutBytes(ctx, src, "tenants/acme/customers/c3.json", []byte("new"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := objstore.PutBytes(ctx, src, "tenants/acme/customers/c1.json", []byte("changed"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	checkRun(t, args, 1, []string{"4 object(s) in the source: 1 copied", "2 already there, 1 conflict(s)",
		"conflict: tenants/acme/customers/c1.json exists in the destination with other bytes; left untouched",
		"objects differ in the destination"})
	if b, _, _ := objstore.GetBytes(ctx, dst, "tenants/acme/customers/c1.json"); string(b) != "body of tenants/acme/customers/c1.json" {
		t.Fatalf("conflicting object overwritten: %q", b)
	}
}

// TestCopyProgress: at most one line a second, none for a short run.
func TestCopyProgress(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(0, 0)
	p := &copyProgress{w: &out, every: time.Second, now: func() time.Time { return now }, start: now, shown: now}
	p.update(objstore.CopyProgress{Phase: "copy", Done: 1, Total: 5000})
	now = now.Add(1500 * time.Millisecond)
	p.update(objstore.CopyProgress{Phase: "copy", Done: 1200, Total: 5000, Bytes: 3_100_000})
	now = now.Add(500 * time.Millisecond)
	p.update(objstore.CopyProgress{Phase: "copy", Done: 1300, Total: 5000})
	now = now.Add(time.Second)
	p.update(objstore.CopyProgress{Phase: "verify", Done: 10, Total: 5000, Bytes: 999})
	want := "copied 1200/5000 objects (24%), 3.1 MB\nverified 10/5000 objects (0%), 999 B\n"
	if got := out.String(); got != want {
		t.Fatalf("progress:\n%s\nwant:\n%s", got, want)
	}
}

// TestStoreCopyToS3: dir→s3 through the command line with the s3 settings
// of the environment, as the gateway would open them; the development
// master key of the directory is pointed out, since it is not copied.
func TestStoreCopyToS3(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	from := filepath.Join(t.TempDir(), "data")
	src, err := objstore.NewDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := objstore.PutBytes(ctx, src, fmt.Sprintf("tenants/acme/customers/c%02d.json", i), []byte(fmt.Sprint(i)), objstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(from, "dev-master.key"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"ENDPOINT": m.Endpoint, "BUCKET": "moved", "CREATE_BUCKET": "true",
		"ACCESS_KEY": m.AccessKey, "SECRET_KEY": m.SecretKey} {
		t.Setenv("LIVERY_STORE_S3_"+k, v)
	}
	args := []string{"store", "copy", "-from", "dir:" + from, "-to", "s3"}
	checkRun(t, args, 0, []string{"30 object(s) in the source: 30 copied", "verified: 30 object(s) identical", "holds the development master key"})
	checkRun(t, args, 0, []string{"0 copied (0 B), 30 already there"})
	s3, err := objstore.NewS3(ctx, objstore.S3Config{Endpoint: m.Endpoint, Bucket: "moved", AccessKey: m.AccessKey, SecretKey: m.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if objs, err := s3.List(ctx, ""); err != nil || len(objs) != 30 {
		t.Fatalf("bucket holds %d objects (%v), want 30", len(objs), err)
	}
}
