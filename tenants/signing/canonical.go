package signing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// This file holds the canonicalisation rules of SDK-HMAC-SHA256, mirrored
// from core/auth/signer/signer.go of github.com/huaweicloud/huaweicloud-sdk-go-v3.
// The SDK works from the *unescaped* path and query values; a server sees
// the escaped forms, so every path segment and query key/value is decoded
// first and then re-escaped with the SDK's escape().

const upperHex = "0123456789ABCDEF"

// shouldEscape is the SDK's rule: everything except A-Z a-z 0-9 _ - ~ . is
// percent-encoded (upper-case hex), byte by byte.
func shouldEscape(c byte) bool {
	return !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '~' || c == '.')
}

func appendEscapedByte(dst []byte, c byte) []byte {
	if shouldEscape(c) {
		return append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return append(dst, c)
}

// appendEscape appends the SDK's escape(s).
func appendEscape(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = appendEscapedByte(dst, s[i])
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendReescaped percent-decodes s (and, for query components, turns '+'
// into a space) and appends the SDK escaping of the decoded bytes, without
// allocating. Invalid percent-encoding is an error.
func appendReescaped(dst []byte, s string, plusIsSpace bool) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return dst, fmt.Errorf("%w: truncated percent-encoding", ErrMalformed)
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return dst, fmt.Errorf("%w: invalid percent-encoding", ErrMalformed)
			}
			c = hi<<4 | lo
			i += 2
		case c == '+' && plusIsSpace:
			c = ' '
		}
		dst = appendEscapedByte(dst, c)
	}
	return dst, nil
}

// appendCanonicalURI appends the canonical URI for an escaped request path:
// segments split on '/', each decoded and re-escaped, always ending in '/'.
func appendCanonicalURI(dst []byte, path string) ([]byte, error) {
	start := len(dst)
	for {
		j := strings.IndexByte(path, '/')
		seg := path
		if j >= 0 {
			seg = path[:j]
		}
		var err error
		if dst, err = appendReescaped(dst, seg, false); err != nil {
			return dst, fmt.Errorf("path: %w", err)
		}
		if j < 0 {
			break
		}
		dst = append(dst, '/')
		path = path[j+1:]
	}
	if len(dst) == start || dst[len(dst)-1] != '/' {
		dst = append(dst, '/')
	}
	return dst, nil
}

type queryPair struct{ k, v string }

func queryUnescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return "", fmt.Errorf("%w: query: invalid percent-encoding", ErrMalformed)
	}
	return u, nil
}

// appendCanonicalQuery appends the canonical query string for a raw query:
// pairs decoded ('+' is a space), sorted by decoded key then decoded value,
// rendered as escape(k)=escape(v) joined by '&'. Empty pieces ("a=1&&b=2")
// are ignored; a piece without '=' has an empty value (the SDK sends empty
// values that way).
func appendCanonicalQuery(dst []byte, raw string) ([]byte, error) {
	if raw == "" {
		return dst, nil
	}
	var backing [8]queryPair
	pairs := backing[:0]
	for raw != "" {
		piece := raw
		if j := strings.IndexByte(raw, '&'); j >= 0 {
			piece, raw = raw[:j], raw[j+1:]
		} else {
			raw = ""
		}
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		var err error
		var p queryPair
		if p.k, err = queryUnescape(k); err != nil {
			return dst, err
		}
		if p.v, err = queryUnescape(v); err != nil {
			return dst, err
		}
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b queryPair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = appendEscape(dst, p.k)
		dst = append(dst, '=')
		dst = appendEscape(dst, p.v)
	}
	return dst, nil
}

// headerValues returns every value of the header name, matched
// case-insensitively across all keys of h (the SDK merges case variants).
// It does not allocate unless several keys match.
func headerValues(h http.Header, name string) []string {
	var out []string
	n := 0
	for k, v := range h {
		if len(v) == 0 || len(k) != len(name) || !strings.EqualFold(k, name) {
			continue
		}
		n++
		if n == 1 {
			out = v
			continue
		}
		if n == 2 {
			out = append([]string(nil), out...)
		}
		out = append(out, v...)
	}
	return out
}

// appendCanonicalHeaders appends "name:value\n" for every signed header, in
// SignedHeaders order, several values sorted then trimmed as the SDK does.
// "host" comes from req.Host when set, else from a Host header. A signed
// header absent from the request is ErrMalformed.
func appendCanonicalHeaders(dst []byte, req *Request, signed []string) ([]byte, error) {
	for _, name := range signed {
		vals := headerValues(req.Header, name)
		if name == "host" && req.Host != "" {
			vals = []string{req.Host}
		}
		if len(vals) == 0 {
			return dst, fmt.Errorf("%w: signed header %q absent from request", ErrMalformed, name)
		}
		if len(vals) > 1 && !slices.IsSorted(vals) {
			vals = slices.Sorted(slices.Values(vals))
		}
		for _, v := range vals {
			dst = append(dst, name...)
			dst = append(dst, ':')
			dst = append(dst, strings.TrimSpace(v)...)
			dst = append(dst, '\n')
		}
	}
	return dst, nil
}

// appendCanonicalRequest appends the full canonical request.
func appendCanonicalRequest(dst []byte, req *Request, signed []string, bodyHash string) ([]byte, error) {
	var err error
	dst = append(dst, req.Method...)
	dst = append(dst, '\n')
	if dst, err = appendCanonicalURI(dst, req.Path); err != nil {
		return dst, err
	}
	dst = append(dst, '\n')
	if dst, err = appendCanonicalQuery(dst, req.RawQuery); err != nil {
		return dst, err
	}
	dst = append(dst, '\n')
	if dst, err = appendCanonicalHeaders(dst, req, signed); err != nil {
		return dst, err
	}
	dst = append(dst, '\n')
	for i, h := range signed {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, h...)
	}
	dst = append(dst, '\n')
	dst = append(dst, bodyHash...)
	return dst, nil
}

// appendStringToSign appends Algorithm "\n" date "\n" hex(sha256(canonical request)).
func appendStringToSign(dst []byte, req *Request, signed []string, date, bodyHash string) ([]byte, error) {
	var scratch [1024]byte
	cr, err := appendCanonicalRequest(scratch[:0], req, signed, bodyHash)
	if err != nil {
		return dst, err
	}
	sum := sha256.Sum256(cr)
	dst = append(dst, Algorithm...)
	dst = append(dst, '\n')
	dst = append(dst, date...)
	dst = append(dst, '\n')
	return hex.AppendEncode(dst, sum[:]), nil
}
