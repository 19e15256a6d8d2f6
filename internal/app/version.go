package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// BuildInfo says what a binary is: its version, the VCS revision and time
// it was built from, and the Go version (`livery version`, the
// livery_build_info metric).
type BuildInfo struct {
	Version   string
	Revision  string // VCS revision, with "-dirty" when built from a modified tree
	Time      string // build (or commit) time, RFC 3339
	GoVersion string
}

// String is the one-line form `livery version` prints.
func (b BuildInfo) String() string {
	return fmt.Sprintf("%s (revision %s, built %s, %s)", b.Version, orUnknown(b.Revision), orUnknown(b.Time), b.GoVersion)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ReadBuildInfo combines the values stamped at link time (-ldflags -X; any
// may be empty) with what the Go toolchain recorded in the binary
// (debug.ReadBuildInfo: vcs.revision, vcs.time, vcs.modified): a stamped
// value wins. The version falls back as Version does.
func ReadBuildInfo(version, revision, buildTime string) BuildInfo {
	b := BuildInfo{Version: Version(version), Revision: revision, Time: buildTime, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, vcsTime, dirty := "", "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				vcsTime = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if b.Revision == "" && rev != "" {
			b.Revision = rev + dirty
		}
		if b.Time == "" {
			b.Time = vcsTime
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
	}
	return b
}

// Version is stamped (set at build time) or, when empty, the VCS revision
// the binary was built from ("dev-<12 hex digits>[-dirty]"), the module
// version, or "dev".
func Version(stamped string) string {
	if stamped != "" {
		return stamped
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if rev != "" {
			return "dev-" + rev[:min(12, len(rev))] + dirty
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}
