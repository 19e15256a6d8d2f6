package inject

import (
	"bytes"
	"mime"
	"strings"
)

// ASCIICompatible reports whether a response with the given Content-Type
// header and first bytes (sniff, typically the first 512–1024 bytes) is in a
// charset where ASCII bytes always stand for ASCII characters, so that tags
// can be found and ASCII fragments inserted without transcoding.
//
// Order of precedence follows browsers: a byte-order mark in sniff wins
// (UTF-8 → true, UTF-16/32 → false), then the Content-Type charset, then a
// <meta charset> / http-equiv declaration found in sniff. Without any
// declaration the document is assumed ASCII-compatible (UTF-8 or
// windows-1252) unless sniff contains NUL bytes (BOM-less UTF-16/32).
// Declared but unknown or stateful charsets (utf-7, iso-2022-*, hz, ...) are
// refused.
func ASCIICompatible(contentType string, sniff []byte) bool {
	switch {
	case bytes.HasPrefix(sniff, []byte{0xEF, 0xBB, 0xBF}):
		return true
	case bytes.HasPrefix(sniff, []byte{0xFE, 0xFF}), bytes.HasPrefix(sniff, []byte{0xFF, 0xFE}),
		bytes.HasPrefix(sniff, []byte{0, 0, 0xFE, 0xFF}):
		return false
	}
	if strings.EqualFold(contentType, "text/html; charset=utf-8") { // the common case, without parsing
		return true
	}
	if contentType != "" {
		if _, params, err := mime.ParseMediaType(contentType); err == nil {
			if cs, ok := params["charset"]; ok && strings.TrimSpace(cs) != "" {
				return knownASCIICompatible(cs)
			}
		} else if i := strings.Index(strings.ToLower(contentType), "charset="); i >= 0 {
			return false // a malformed header that still declares a charset: do not guess
		}
	}
	if cs, ok := metaCharset(sniff); ok {
		c := normCharset(cs)
		// HTML: a <meta> declaring UTF-16/32 is treated as UTF-8.
		if strings.HasPrefix(c, "utf-16") || strings.HasPrefix(c, "utf-32") {
			return true
		}
		return knownASCIICompatible(cs)
	}
	return bytes.IndexByte(sniff, 0) < 0
}

func normCharset(cs string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`))
}

func knownASCIICompatible(cs string) bool {
	c := normCharset(cs)
	switch c {
	case "utf-8", "utf8", "unicode-1-1-utf-8", "us-ascii", "ascii", "latin1", "l1",
		"gbk", "x-gbk", "gb2312", "gb_2312-80", "gb18030", "cp936", "chinese",
		"big5", "big5-hkscs", "cn-big5", "x-x-big5",
		"shift_jis", "shift-jis", "sjis", "ms_kanji", "x-sjis", "windows-31j", "csshiftjis",
		"koi8-r", "koi8-u", "koi8-ru", "ibm866", "cp866", "macintosh", "x-mac-cyrillic", "tis-620":
		return true
	}
	for _, p := range []string{"iso-8859-", "iso8859-", "iso_8859-", "windows-125", "cp125", "x-cp125", "euc-", "x-euc-"} {
		if strings.HasPrefix(c, p) && len(c) > len(p) {
			return true
		}
	}
	return false // utf-16*, utf-32*, utf-7, iso-2022-*, hz-gb-2312, ebcdic, unknown
}

// metaCharset does a light version of the HTML encoding prescan: the first
// "charset=" in sniff (covers <meta charset=...> and http-equiv content).
func metaCharset(sniff []byte) (string, bool) {
	i := indexFold(sniff, "charset")
	if i < 0 {
		return "", false
	}
	rest := sniff[i+len("charset"):]
	rest = bytes.TrimLeft(rest, " \t\r\n\f")
	if len(rest) == 0 || rest[0] != '=' {
		return "", false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n\f\"'")
	end := bytes.IndexAny(rest, " \t\r\n\f\"';>/")
	if end < 0 {
		end = len(rest)
	}
	if end == 0 {
		return "", false
	}
	return string(rest[:end]), true
}

func indexFold(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		j := 0
		for j < len(s) && lower(b[i+j]) == s[j] {
			j++
		}
		if j == len(s) {
			return i
		}
	}
	return -1
}
