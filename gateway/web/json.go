package web

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/livery/livery/tenants"
)

// decodeStrict decodes a request body that must be exactly one JSON object
// into v. It is the one JSON decoder of every request body the gateway reads
// (partner API and admin API alike).
//
// It uses github.com/go-json-experiment/json (the encoding/json/v2
// implementation, used without GOEXPERIMENT), whose defaults are the rules
// wanted here, enforced while parsing rather than by a second pass:
//
//   - invalid UTF-8 and escapes of lone UTF-16 surrogates (`\ud800`) are
//     refused instead of being replaced by U+FFFD, so two different byte
//     strings can never decode to the same value;
//   - an object naming a member twice, at any depth, is refused instead of
//     the last one winning;
//   - member names match the struct's names exactly (`XACCOUNT_ID` is not
//     `xaccount_id`): any other name is unknown, and unknown names are
//     refused (RejectUnknownMembers).
//
// Also refused: an empty body, anything but an object at the top level,
// wrong JSON types and data after the object.
//
// Errors: always a *tenants.FieldError (Kind tenants.ErrInvalid) whose Field
// names the member at fault as a path ("managers[1]", "ops.announcements[0].start"),
// or "body" when the fault is not inside a member.
func DecodeStrict(body []byte, v any) error {
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		return bodyError("is empty; a JSON object is required")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	switch dec.PeekKind() {
	case 'n', 'f', 't', '"', '0', '[': // a JSON value, but not an object
		return bodyError("must be a JSON object")
	} // an object, or not JSON at all: UnmarshalDecode says which
	if err := jsonv2.UnmarshalDecode(dec, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return strictError(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return bodyError("has data after the JSON object")
	}
	return nil
}

func bodyError(reason string) *tenants.FieldError {
	return &tenants.FieldError{Field: "body", Reason: reason, Kind: tenants.ErrInvalid}
}

// strictError turns a decoding error into a *tenants.FieldError.
func strictError(err error) *tenants.FieldError {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn):
		field := pointerField(syn.JSONPointer)
		msg := syn.Err.Error()
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return fieldError(field, "appears more than once; each member may be given only once")
		case strings.Contains(msg, "UTF-8"):
			return fieldError(field, "must be valid UTF-8")
		case strings.Contains(msg, "surrogate"):
			return fieldError(field, `must be valid UTF-8: \u escapes of lone UTF-16 surrogates are refused`)
		}
		return bodyError("is not a valid JSON object (" + msg + " at byte " + strconv.FormatInt(syn.ByteOffset, 10) + ")")
	case errors.As(err, &sem):
		field := pointerField(sem.JSONPointer)
		if errors.Is(sem.Err, jsonv2.ErrUnknownName) {
			return fieldError(field, "is not a known field (names are case-sensitive)")
		}
		if field == "body" {
			return bodyError("must be a JSON object")
		}
		return fieldError(field, "must be "+describeType(sem.GoType))
	}
	return bodyError("is not a valid JSON object")
}

func fieldError(field, reason string) *tenants.FieldError {
	return &tenants.FieldError{Field: field, Reason: reason, Kind: tenants.ErrInvalid}
}

// pointerField renders a JSON pointer ("/ops/announcements/0/start") as a
// field path ("ops.announcements[0].start"); "" is "body". Names that are
// long or hold non-printing characters are quoted and cut, since they are
// echoed to the client.
func pointerField(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(printableName(tok))
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func printableName(s string) string {
	const max = 64
	plain := len(s) <= max && strings.IndexFunc(s, func(r rune) bool {
		return !unicode.IsPrint(r) || r == '"' || r == '.' || r == '['
	}) < 0
	if plain {
		return s
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}

var timeType = reflect.TypeFor[time.Time]()

// describeType names the JSON a Go type takes.
func describeType(t reflect.Type) string {
	if t == nil {
		return "a valid value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "an RFC 3339 time string such as 2026-01-31T08:00:00Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "of JSON type string"
	case reflect.Bool:
		return "of JSON type boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "of JSON type integer"
	case reflect.Float32, reflect.Float64:
		return "of JSON type number"
	case reflect.Slice, reflect.Array:
		return "of JSON type array"
	case reflect.Struct, reflect.Map:
		return "of JSON type object"
	}
	return "a valid value"
}
