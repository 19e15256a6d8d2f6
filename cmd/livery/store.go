package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/livery/livery/internal/app"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/objstore"
)

const storeUse = `usage: livery store copy -from SPEC -to SPEC [-verify=true] [-config FILE]

  copy   copy every object of one store to another, create-only: an object
         already in the destination with the same bytes is skipped (so an
         interrupted copy resumes when run again), one with other bytes is a
         conflict, reported and left untouched; then every object is read back
         from both stores and compared (-verify)

SPEC is dir:PATH (a directory store, store.dir.path) or s3 (the store.s3.*
settings of the configuration and LIVERY_STORE_S3_* variables). Copy with
Livery stopped: see docs/operations.md, "Moving from the embedded store to S3".`

// storeCmd: livery store copy.
func storeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stdout, storeUse)
		return exitOK
	}
	if len(args) == 0 || args[0] != "copy" {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "livery store: unknown subcommand %q (copy)\n\n", args[0])
		}
		fmt.Fprintln(stderr, storeUse)
		return exitConfig
	}
	fs := newFlagSet("store copy", stderr)
	path := fs.String("config", "", "configuration file (for s3: store.s3.*)")
	from := fs.String("from", "", "source store: dir:PATH or s3")
	to := fs.String("to", "", "destination store: dir:PATH or s3")
	verify := fs.Bool("verify", true, "read every object back from both stores and compare them (SHA-256)")
	if code, done := parseFlags(fs, args[1:]); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "livery store copy: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	src, err := parseStoreSpec("-from", *from)
	if err == nil {
		var dst storeSpec
		if dst, err = parseStoreSpec("-to", *to); err == nil {
			err = checkSpecs(src, dst)
			if err == nil {
				return storeCopy(ctx, *path, src, dst, *verify, stdout, stderr)
			}
		}
	}
	fmt.Fprintf(stderr, "livery store copy: %v\n\n%s\n", err, storeUse)
	return exitConfig
}

// storeSpec is a parsed -from/-to: driver "dir" (path absolute) or "s3".
type storeSpec struct{ driver, path string }

func (s storeSpec) String() string {
	if s.driver == "dir" {
		return "dir:" + s.path
	}
	return s.driver
}

func parseStoreSpec(flag, s string) (storeSpec, error) {
	switch {
	case s == "":
		return storeSpec{}, fmt.Errorf("%s is required (dir:PATH or s3)", flag)
	case s == "s3":
		return storeSpec{driver: "s3"}, nil
	case strings.HasPrefix(s, "dir:") && len(s) > len("dir:"):
		p, err := filepath.Abs(s[len("dir:"):])
		if err != nil {
			return storeSpec{}, fmt.Errorf("%s %q: %w", flag, s, err)
		}
		return storeSpec{driver: "dir", path: p}, nil
	}
	return storeSpec{}, fmt.Errorf("%s %q: want dir:PATH or s3", flag, s)
}

func checkSpecs(src, dst storeSpec) error {
	if src == dst {
		return fmt.Errorf("-from and -to are the same store (%s)", src)
	}
	if src.driver == "dir" {
		// Opening a directory store creates it: refuse a mistyped source
		// rather than copy an empty store.
		if fi, err := os.Stat(filepath.Join(src.path, "objects")); err != nil || !fi.IsDir() {
			return fmt.Errorf("-from %s: not a Livery store directory (no objects/ inside)", src)
		}
	}
	return nil
}

func storeCopy(ctx context.Context, cfgPath string, from, to storeSpec, verify bool, stdout, stderr io.Writer) int {
	cfg, ok := loadConfig(cfgPath, stderr)
	if !ok {
		return exitConfig
	}
	if from.driver == "s3" || to.driver == "s3" {
		if cfg.Store.S3.Endpoint == "" || cfg.Store.S3.Bucket == "" {
			fmt.Fprintln(stderr, "livery store copy: s3 needs store.s3.endpoint and store.s3.bucket (LIVERY_STORE_S3_ENDPOINT, LIVERY_STORE_S3_BUCKET)")
			return exitConfig
		}
	}
	src, err := openSpec(ctx, cfg.Store, from)
	if err != nil {
		fmt.Fprintf(stderr, "livery store copy: source %s: %v\n", from, err)
		return exitFail
	}
	dst, err := openSpec(ctx, cfg.Store, to)
	if err != nil {
		fmt.Fprintf(stderr, "livery store copy: destination %s: %v\n", to, err)
		return exitFail
	}
	fmt.Fprintf(stderr, "copying %s → %s\n", from, to)
	p := newCopyProgress(stderr)
	rep, err := objstore.Copy(ctx, src, dst, objstore.CopyOptions{Verify: verify, Progress: p.update})
	fmt.Fprintf(stdout, "%d object(s) in the source: %d copied (%s), %d already there, %d conflict(s)",
		rep.Total, rep.Copied, humanBytes(rep.Bytes), rep.AlreadyThere, len(rep.Conflicts))
	if len(rep.Vanished) > 0 {
		fmt.Fprintf(stdout, ", %d deleted during the copy", len(rep.Vanished))
	}
	fmt.Fprintln(stdout)
	if verify && (err == nil || errors.Is(err, objstore.ErrCopyConflict) || errors.Is(err, objstore.ErrVerifyMismatch)) {
		fmt.Fprintf(stdout, "verified: %d object(s) identical in both stores, %d mismatch(es)\n", rep.Verified, len(rep.Mismatches))
	}
	for _, k := range rep.Conflicts {
		fmt.Fprintf(stderr, "conflict: %s exists in the destination with other bytes; left untouched\n", k)
	}
	for _, k := range rep.Mismatches {
		fmt.Fprintf(stderr, "mismatch: %s reads back differently from the destination\n", k)
	}
	if from.driver == "dir" && to.driver != "dir" {
		if _, serr := os.Stat(filepath.Join(from.path, "dev-master.key")); serr == nil {
			fmt.Fprintf(stderr, "note: %s holds the development master key, which sealed the partner secret keys; it is not an object "+
				"and was not copied: before serving from %s set security.master_key_file to a safe copy of %s (or security.master_key to its content)\n",
				from, to, filepath.Join(from.path, "dev-master.key"))
		}
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "livery store copy: interrupted; run the same command again to resume")
	default:
		fmt.Fprintln(stderr, "livery store copy:", err)
	}
	return exitFail
}

// openSpec opens spec with the configuration's other store settings
// (store.timeout, store.s3.*).
func openSpec(ctx context.Context, c config.Store, spec storeSpec) (objstore.Store, error) {
	c.Driver = spec.driver
	if spec.driver == "dir" {
		c.Dir.Path = spec.path
	}
	return app.OpenStore(ctx, c)
}

// copyProgress prints a copy's progress ("copied 1200/5000 objects (24%),
// 3.1 MB") at most once per every; a run shorter than every prints none.
type copyProgress struct {
	w            io.Writer
	every        time.Duration
	now          func() time.Time
	start, shown time.Time
}

func newCopyProgress(w io.Writer) *copyProgress {
	t := time.Now()
	return &copyProgress{w: w, every: time.Second, now: time.Now, start: t, shown: t}
}

func (p *copyProgress) update(c objstore.CopyProgress) {
	t := p.now()
	if t.Sub(p.shown) < p.every {
		return
	}
	p.shown = t
	verb := "copied"
	if c.Phase == "verify" {
		verb = "verified"
	}
	fmt.Fprintf(p.w, "%s %d/%d objects (%.0f%%), %s\n", verb, c.Done, c.Total, 100*float64(c.Done)/float64(max(c.Total, 1)), humanBytes(c.Bytes))
}

// humanBytes formats n in SI units: "512 B", "3.1 MB".
func humanBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	f, units := float64(n)/1000, "kMGTP"
	for i := 0; ; i++ {
		if f < 1000 || i == len(units)-1 {
			return fmt.Sprintf("%.1f %cB", f, units[i])
		}
		f /= 1000
	}
}
