// Package ids makes Livery's random identifiers and secrets, all from
// crypto/rand (whose Read does not fail: since Go 1.24 it crashes the
// program instead), in the two forms Livery uses.
package ids

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
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
