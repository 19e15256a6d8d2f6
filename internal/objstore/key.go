package objstore

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the maximum key length in bytes.
const MaxKeyLen = 1024

// MaxSegmentLen is the maximum length in bytes of one slash-separated key
// segment (the dir driver turns segments into file names, and file systems
// limit names to 255 bytes).
const MaxSegmentLen = 250

// ValidateKey reports whether key is acceptable to every driver. It returns
// nil or an error wrapping ErrInvalidKey. A valid key:
//
//   - is non-empty and at most MaxKeyLen bytes, each segment at most
//     MaxSegmentLen bytes;
//   - is valid UTF-8 and contains no NUL, no other C0/C1 control character
//     and no DEL;
//   - contains no backslash;
//   - does not start or end with "/" and has no empty segment ("a//b");
//   - has no "." or ".." segment.
//
// Keys are taken literally: no percent- or other decoding is done, so
// "%2e%2e/x" is a valid key whose first segment is the 6-byte name
// "%2e%2e" (it is never treated as ".."). Names like "...", ".a" or "a.."
// are allowed because they are not dot segments.
func ValidateKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("objstore: key %q: %s: %w", truncate(key), why, ErrInvalidKey)
	}
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("leading slash")
	case strings.HasSuffix(key, "/"):
		return bad("trailing slash")
	case strings.ContainsRune(key, '\\'):
		return bad("backslash")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return bad("control character")
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return bad("empty segment")
		case seg == "." || seg == "..":
			return bad("dot segment")
		case len(seg) > MaxSegmentLen:
			return bad(fmt.Sprintf("segment longer than %d bytes", MaxSegmentLen))
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
