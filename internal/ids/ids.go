// Package ids makes Livery's random identifiers and secrets, all from
// crypto/rand (whose Read does not fail: since Go 1.24 it crashes the
// program instead), in the two forms Livery uses.
package ids

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// Token returns 256 random bits as 43 characters of base64url: secrets a
// browser or a link carries (session ids, login state, preview tokens).
func Token() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hex returns n random bytes as 2n lower-case hex digits: unguessable ids
// (customer ids, idempotency keys, audit and submission suffixes, jti).
func Hex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TimeLayout is the UTC time format of object names that must list in
// time order (audit records, activity logs): nanoseconds, fixed width.
const TimeLayout = "20060102T150405.000000000Z"

// Sortable returns an id that sorts by t (UTC, nanoseconds, without the
// dot: "20260213T150405123456789Z") followed by 4 random bytes in hex:
// submission, grant and invitation ids.
func Sortable(t time.Time) string {
	return strings.Replace(t.UTC().Format(TimeLayout), ".", "", 1) + "-" + Hex(4)
}
