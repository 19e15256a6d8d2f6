package branding

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Change is one differing leaf field. Path uses JSON names
// ("brand.nav_color", "promotions[1].link"); a field present on one side
// only (list grew or shrank) has "" on the other side. Assets render as
// "<sha256>.<ext> <w>x<h>", times as RFC 3339, bools as true/false.
type Change struct {
	Path string `json:"path"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// Diff returns the field-level differences from live to proposed, in
// document order. A nil document is treated as empty.
func Diff(live, proposed *Document) []Change {
	if live == nil {
		live = &Document{}
	}
	if proposed == nil {
		proposed = &Document{}
	}
	a, b := flatten(live), flatten(proposed)
	oldVals := make(map[string]string, len(a))
	for _, kv := range a {
		oldVals[kv.path] = kv.val
	}
	seen := make(map[string]bool, len(b))
	var out []Change
	for _, kv := range b {
		seen[kv.path] = true
		if old, ok := oldVals[kv.path]; !ok || old != kv.val {
			out = append(out, Change{Path: kv.path, Old: old, New: kv.val})
		}
	}
	for _, kv := range a {
		if !seen[kv.path] {
			out = append(out, Change{Path: kv.path, Old: kv.val})
		}
	}
	return out
}

type leaf struct{ path, val string }

var (
	timeType  = reflect.TypeFor[time.Time]()
	assetType = reflect.TypeFor[Asset]()
)

func flatten(d *Document) []leaf {
	var out []leaf
	walk(reflect.ValueOf(*d), "", &out)
	return out
}

func walk(v reflect.Value, path string, out *[]leaf) {
	switch {
	case v.Type() == timeType:
		t := v.Interface().(time.Time)
		s := ""
		if !t.IsZero() {
			s = t.UTC().Format(time.RFC3339)
		}
		*out = append(*out, leaf{path, s})
		return
	case v.Type() == assetType:
		a := v.Interface().(Asset)
		s := ""
		if !a.IsZero() {
			s = fmt.Sprintf("%s.%s %dx%d", a.SHA256, a.Ext, a.Width, a.Height)
		}
		*out = append(*out, leaf{path, s})
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			if path != "" {
				name = path + "." + name
			}
			walk(v.Field(i), name, out)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Bool:
		*out = append(*out, leaf{path, strconv.FormatBool(v.Bool())})
	case reflect.String:
		*out = append(*out, leaf{path, v.String()})
	case reflect.Int, reflect.Int64:
		*out = append(*out, leaf{path, strconv.FormatInt(v.Int(), 10)})
	default:
		*out = append(*out, leaf{path, fmt.Sprint(v.Interface())})
	}
}
