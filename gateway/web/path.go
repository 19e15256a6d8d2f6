package web

import (
	"bytes"
	"net/http"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// Console path canonicalisation (docs/security.md, "Console paths and
// headers"). Every console request path is put in one canonical form
// before anything reads it: sign-in, authorization, Livery's own routes
// and the proxy all see that one value, and the upstream receives exactly
// it. A path that cannot be put in the form, because some server would
// read it as another path, is refused.
//
// The canonical form:
//   - starts with "/"; an empty path (absolute-form target without one)
//     is "/";
//   - percent-encodings of unreserved characters (ALPHA DIGIT - . _ ~) are
//     decoded ("%61dmin" is "admin", "%2e" is "."); every other encoding
//     is kept, with upper-case hex digits ("%3f" is "%3F");
//   - printable ASCII that RFC 3986 does not allow raw in a path
//     (" < > [ ] ^ ` { | }) and raw non-ASCII bytes are percent-encoded;
//   - empty segments are removed ("//" is "/"), except that a trailing
//     "/" is kept; then "." and ".." segments are resolved once as RFC 3986
//     section 5.2.4 does ("/a/../b" is "/b", "/.." is "/").
//
// Refused (errPath, answered 400 bad_path):
//   - ";" and "\", raw or encoded (%3B, %5C), and an encoded "/" (%2F):
//     path parameters and alternative separators;
//   - control characters and whitespace, raw or encoded (%00-%1F, %7F,
//     C1 controls, Unicode whitespace and format characters), except an
//     encoded space (%20) inside a segment; a segment that starts or ends
//     with a space, or ends with "." (other than "." and "..");
//   - a malformed percent-encoding ("%zz", "%4"), a double encoding
//     ("%25" followed by two hex digits) and percent-encoded or raw bytes
//     that are not valid UTF-8 (overlong forms such as %C0%AE included);
//   - the full-width and small forms of ".", "/" and "\" and the dot
//     leaders (U+FF0E, U+FF0F, U+FF3C, U+FE52, U+FE68, U+2024, U+2025),
//     which some servers fold to ASCII.

// errPath is a refused path; its text says why, for the client.
type errPath string

func (e errPath) Error() string { return string(e) }

// pathByte classifies the bytes of a path as received.
const (
	pbPlain  = 1 + iota // unreserved, sub-delims but ";", ":" and "@": kept raw
	pbEncode            // printable ASCII not allowed raw: percent-encoded
	pbRefuse            // ";", "\", controls, space
)

var pathBytes = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			t[c] = pbPlain
		case strings.IndexByte("-._~!$&'()*+,=:@", byte(c)) >= 0:
			t[c] = pbPlain
		case strings.IndexByte("\"<>[]^`{|}", byte(c)) >= 0:
			t[c] = pbEncode
		case c < 0x80 && c != '/' && c != '%':
			t[c] = pbRefuse // ; \ controls space DEL ("?" and "#" never reach here)
		}
	}
	return t
}()

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// canonicalPath returns the canonical form of the path p (the request
// target's path as received, still percent-encoded). A path already in
// canonical form is returned as it is, without allocating. The error is an
// errPath naming what was refused.
func CanonicalPath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if isCanonical(p) {
		return p, nil
	}
	return canonicalize(p)
}

// isCanonical reports whether p needs no change: only plain bytes, no
// empty segment but a trailing one, no segment ending in ".".
func isCanonical(p string) bool {
	if p[0] != '/' {
		return false
	}
	start := 1
	for i := 1; i < len(p); i++ {
		c := p[i]
		if c == '/' {
			if i == start || p[i-1] == '.' {
				return false
			}
			start = i + 1
			continue
		}
		if pathBytes[c] != pbPlain {
			return false
		}
	}
	return len(p) == start || p[len(p)-1] != '.'
}

// canonicalize is the slow path of canonicalPath: normalise the encoding,
// then resolve empty and dot segments.
func canonicalize(p string) (string, error) {
	if p[0] != '/' {
		return "", errPath("the path must start with \"/\"")
	}
	var stack [512]byte // most paths: no heap buffer
	buf := stack[:0]
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '/' || pathBytes[c] == pbPlain:
			buf = append(buf, c)
			i++
		case c == '%':
			v, ok := hexByte(p, i)
			if !ok {
				return "", errPath("it has a malformed percent-encoding")
			}
			switch {
			case v >= 0x80:
				var err error
				if buf, i, err = appendUTF8(buf, p, i); err != nil {
					return "", err
				}
				continue
			case unreserved(v):
				buf = append(buf, v)
			case v == '/':
				return "", errPath("it has an encoded \"/\" (%2F)")
			case v == '\\':
				return "", errPath("it has an encoded backslash (%5C)")
			case v == ';':
				return "", errPath("it has an encoded \";\" (%3B)")
			case v < 0x20 || v == 0x7f:
				return "", errPath("it has an encoded control character")
			default:
				buf = appendPct(buf, v)
			}
			i += 3
		case c >= 0x80:
			var err error
			if buf, i, err = appendUTF8(buf, p, i); err != nil {
				return "", err
			}
		case pathBytes[c] == pbEncode:
			buf = appendPct(buf, c)
			i++
		case c == ';':
			return "", errPath("it has a \";\" (path parameter)")
		case c == '\\':
			return "", errPath("it has a backslash")
		case c <= ' ' || c == 0x7f:
			return "", errPath("it has a control character or whitespace")
		default:
			return "", errPath("it has a character not allowed in a path")
		}
	}
	if encodedTwice(buf) {
		return "", errPath("it is percent-encoded twice")
	}
	out, err := resolveSegments(buf)
	if err != nil {
		return "", err
	}
	if string(out) == p {
		return p, nil // canonical already (with encodings): no copy
	}
	return string(out), nil
}

// encodedTwice reports whether buf (normalised encoding) decodes to
// another percent-encoding: "%25" followed by two hex digits, which were
// raw or are decoded unreserved characters by now ("%25%36%31" is "%2561").
func encodedTwice(buf []byte) bool {
	for k := 0; k+4 < len(buf); k++ {
		if buf[k] == '%' && buf[k+1] == '2' && buf[k+2] == '5' {
			if _, ok := unhex(buf[k+3]); ok {
				if _, ok := unhex(buf[k+4]); ok {
					return true
				}
			}
		}
	}
	return false
}

// resolveSegments removes empty segments (but a trailing one) and resolves
// "." and ".." in buf (normalised encoding, starting with "/"), checking
// each remaining segment's ends. The result reuses buf.
func resolveSegments(buf []byte) ([]byte, error) {
	out := buf[:0] // the result is never longer than what is left to read
	trailing := false
	for i := 1; i <= len(buf); {
		j := i
		for j < len(buf) && buf[j] != '/' {
			j++
		}
		seg := buf[i:j]
		last := j >= len(buf)
		switch string(seg) { // no allocation: the conversion is only compared
		case "", ".":
			trailing = last
		case "..":
			if k := lastSlash(out); k >= 0 {
				out = out[:k]
			}
			trailing = last
		default:
			if err := checkSegment(seg); err != nil {
				return nil, err
			}
			out = append(out, '/')
			out = append(out, seg...)
			trailing = false
		}
		i = j + 1
	}
	if len(out) == 0 || trailing {
		out = append(out, '/')
	}
	return out, nil
}

func lastSlash(b []byte) int {
	for k := len(b) - 1; k >= 0; k-- {
		if b[k] == '/' {
			return k
		}
	}
	return -1
}

// checkSegment refuses the segment ends servers trim: a trailing ".",
// a leading or trailing space.
func checkSegment(seg []byte) error {
	switch s := string(seg); {
	case s[len(s)-1] == '.':
		return errPath("a segment ends with \".\"")
	case strings.HasPrefix(s, "%20") || strings.HasSuffix(s, "%20"):
		return errPath("a segment starts or ends with a space")
	}
	return nil
}

// appendUTF8 reads the run of non-ASCII bytes (raw or percent-encoded)
// starting at p[i], checks it is valid UTF-8 without refused characters,
// and appends it percent-encoded. It returns the index after the run.
func appendUTF8(buf []byte, p string, i int) ([]byte, int, error) {
	var run [64]byte
	dec := run[:0]
	for i < len(p) {
		if p[i] >= 0x80 {
			dec = append(dec, p[i])
			i++
			continue
		}
		if v, ok := hexByte(p, i); ok && v >= 0x80 {
			dec = append(dec, v)
			i += 3
			continue
		}
		break
	}
	for k := 0; k < len(dec); {
		r, n := utf8.DecodeRune(dec[k:])
		if r == utf8.RuneError && n <= 1 {
			return nil, 0, errPath("it is not valid UTF-8")
		}
		if refusedRune(r) {
			return nil, 0, errPath("it has a Unicode control, whitespace, format or look-alike character")
		}
		k += n
	}
	for _, b := range dec {
		buf = appendPct(buf, b)
	}
	return buf, i, nil
}

// refusedRune: controls, whitespace, format characters and the forms of
// ".", "/" and "\" that servers fold to ASCII (NFKC, best-fit mappings).
func refusedRune(r rune) bool {
	switch r {
	case '\uFF0E', '\uFF0F', '\uFF3C', '\uFE52', '\uFE68', '\u2024', '\u2025':
		return true
	}
	return unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}

// hexByte decodes the percent-encoding "%XX" at p[i].
func hexByte(p string, i int) (byte, bool) {
	if i+2 >= len(p) || p[i] != '%' {
		return 0, false
	}
	h, ok1 := unhex(p[i+1])
	l, ok2 := unhex(p[i+2])
	return h<<4 | l, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const upperHex = "0123456789ABCDEF"

func appendPct(buf []byte, b byte) []byte {
	return append(buf, '%', upperHex[b>>4], upperHex[b&15])
}

// isLiveryPath reports whether the canonical path p is in Livery's own
// namespace (/_livery and below, in any letter case, as the router matches
// it): such a path is answered by a Livery route or 404, never proxied.
func IsLiveryPath(p string) bool {
	return len(p) >= len(LiveryPrefix)-1 && strings.EqualFold(p[:len(LiveryPrefix)-1], LiveryPrefix[:len(LiveryPrefix)-1]) &&
		(len(p) == len(LiveryPrefix)-1 || p[len(LiveryPrefix)-1] == '/')
}

// checkHost validates the request's host before the tenant is chosen by
// it (RFC 9110 section 7.2, RFC 9112 section 3.2): the Host header, and
// for an absolute-form target ("GET http://host/ HTTP/1.1", whose
// authority replaces the Host header) that authority too, which must be
// http or https. Each must be host[:port] as validHost accepts it; a
// userinfo ("user@host"), which the HTTP server would silently drop, is
// refused. The error is 400 bad_host.
func CheckHost(h *fasthttp.RequestHeader) error {
	host := h.Host()
	if target := h.RequestURI(); len(target) > 0 && target[0] != '/' {
		auth, ok := absoluteAuthority(target)
		if !ok || !validHost(auth) {
			return hostRefused("request target", target)
		}
		if len(host) == 0 {
			return nil // HTTP/1.0: the authority stands alone
		}
	}
	if !validHost(host) {
		return hostRefused("Host header", host)
	}
	return nil
}

func hostRefused(what string, v []byte) error {
	return Errorf(http.StatusBadRequest, "bad_host",
		"The %s %q is not a valid host name (host or host:port). Check the address you followed.", what, Truncate(string(v), 100))
}

// absoluteAuthority returns the authority of an absolute-form http(s)
// request target.
func absoluteAuthority(target []byte) ([]byte, bool) {
	var rest []byte
	for _, scheme := range []string{"http://", "https://"} {
		if len(target) >= len(scheme) && strings.EqualFold(string(target[:len(scheme)]), scheme) {
			rest = target[len(scheme):]
			break
		}
	}
	if rest == nil {
		return nil, false
	}
	if i := bytes.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest, true
}

// validHost accepts host[:port]: host a reg-name of letters, digits, "-",
// "." and "_" (which covers IPv4 addresses; no percent-encoding, no other
// sub-delimiters) or an IPv6 literal in brackets (no zone); the port, when
// a ":" announces it, 1 to 5 digits up to 65535.
func validHost(h []byte) bool {
	if len(h) == 0 || len(h) > 261 {
		return false
	}
	var port []byte
	if h[0] == '[' {
		end := bytes.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		a, err := netip.ParseAddr(string(h[1:end]))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		rest := h[end+1:]
		if len(rest) > 0 {
			if rest[0] != ':' {
				return false
			}
			if port = rest[1:]; len(port) == 0 {
				return false
			}
		}
	} else {
		name := h
		if i := bytes.IndexByte(h, ':'); i >= 0 {
			name, port = h[:i], h[i+1:]
			if len(port) == 0 {
				return false
			}
		}
		if len(name) == 0 {
			return false
		}
		for _, c := range name {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
				return false
			}
		}
	}
	if port == nil {
		return true
	}
	if len(port) > 5 {
		return false
	}
	n := 0
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}
