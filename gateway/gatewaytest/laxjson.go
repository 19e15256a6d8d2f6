package gatewaytest

import (
	"strconv"
	"strings"
)

// LaxForms are the lenient readings of JSON that the gateway's strict
// decoder (web.DecodeStrict) refuses:
// invalid UTF-8 (raw bytes or a lone surrogate escape), a member named twice,
// and a member name differing from the field's only in case. Each builds one
// member from a field name and a string value; wrap turns a JSON string
// literal into the field's value (identity for string fields).
var LaxForms = []struct {
	Name   string
	Member func(field, value string, wrap func(string) string) string
}{
	{"invalid UTF-8 byte ff", func(f, v string, w func(string) string) string { return strconv.Quote(f) + ":" + w("\""+v+"\xff\"") }},
	{"invalid UTF-8 byte fe", func(f, v string, w func(string) string) string { return strconv.Quote(f) + ":" + w("\""+v+"\xfe\"") }},
	{"lone surrogate escape", func(f, v string, w func(string) string) string { return strconv.Quote(f) + ":" + w(`"`+v+`\ud800"`) }},
	{"lone low surrogate escape", func(f, v string, w func(string) string) string { return strconv.Quote(f) + ":" + w(`"`+v+`\udc00"`) }},
	{"duplicate member", func(f, v string, w func(string) string) string {
		return strconv.Quote(f) + ":" + w(`"other"`) + "," + strconv.Quote(f) + ":" + w(strconv.Quote(v))
	}},
	{"member name in upper case", func(f, v string, w func(string) string) string {
		return strconv.Quote(strings.ToUpper(f)) + ":" + w(strconv.Quote(v))
	}},
	{"member name in mixed case", func(f, v string, w func(string) string) string {
		return strconv.Quote(strings.ToUpper(f[:1])+f[1:]) + ":" + w(strconv.Quote(v))
	}},
}

// Same returns s: the wrap of LaxForms for string fields.
func Same(s string) string { return s }

// Object is the JSON object of member and, unless empty, rest (more
// members).
func Object(member, rest string) string {
	if rest == "" {
		return "{" + member + "}"
	}
	return "{" + member + "," + rest + "}"
}
