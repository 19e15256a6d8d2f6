package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// envName maps a YAML path (store.s3.bucket, tenants.0.oidc.client_id) to
// its environment variable (LIVERY_STORE_S3_BUCKET,
// LIVERY_TENANTS_0_OIDC_CLIENT_ID).
func envName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// envPath is envName of a problem path such as tenants[0].oidc.client_secret.
func envPath(at string) string {
	return envName(strings.NewReplacer("[", ".", "]", "").Replace(at))
}

// leafFunc is called for each settable leaf: path is its dotted path, f
// its struct field and v the (settable) value.
type leafFunc func(path string, f reflect.StructField, v reflect.Value)

// walkLeaves calls fn for every leaf below v: scalars, string lists and
// string maps. It descends into
//   - nested and inline structs;
//   - pointers to structs (branding.console, tenants[i].oidc): a nil one is
//     walked on a fresh value that is stored only when fn set something in
//     it, so an override creates the section (as writing it in the file
//     does);
//   - lists of structs (tenants, branding.notify.tenants): each existing
//     element i as path.i (the file decides how many there are).
//
// A field tagged yaml:"-" (a secret read from its *_file setting) is a leaf
// only with an env tag naming it (env:"client_secret"); fields tagged
// env:"-" are skipped.
func walkLeaves(v reflect.Value, prefix string, fn leafFunc) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("env")
		if tag == "-" {
			continue
		}
		yname, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		name := yname
		switch {
		case yname == "-" && tag == "":
			continue
		case yname == "-":
			name = tag
		case yname == "" && strings.Contains(opts, "inline"):
			walkLeaves(v.Field(i), prefix, fn)
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		fv := v.Field(i)
		switch {
		case f.Type.Kind() == reflect.Struct:
			walkLeaves(fv, path, fn)
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			if !fv.IsNil() {
				walkLeaves(fv.Elem(), path, fn)
				continue
			}
			fresh := reflect.New(f.Type.Elem())
			set := false
			walkLeaves(fresh.Elem(), path, func(p string, sf reflect.StructField, lv reflect.Value) {
				before := lv.Interface()
				fn(p, sf, lv)
				set = set || !reflect.DeepEqual(before, lv.Interface())
			})
			if set && fv.CanSet() {
				fv.Set(fresh)
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			for j := 0; j < fv.Len(); j++ {
				walkLeaves(fv.Index(j), path+"."+strconv.Itoa(j), fn)
			}
		default:
			fn(path, f, fv)
		}
	}
}

// applyEnv overlays LIVERY_* variables onto the leaves of v. A secret's
// file setting is itself a leaf, so LIVERY_STORE_S3_SECRET_KEY_FILE names
// the file holding LIVERY_STORE_S3_SECRET_KEY.
func applyEnv(v reflect.Value, prefix string, env LookupEnv) []Problem {
	var out []Problem
	walkLeaves(v, prefix, func(path string, f reflect.StructField, fv reflect.Value) {
		name := envName(path)
		raw, ok := env(name)
		if !ok {
			return
		}
		if err := setScalar(fv, raw); err != nil {
			out = append(out, Problem{Path: name, Msg: err.Error()})
		}
	})
	return out
}

var durationType = reflect.TypeOf(time.Duration(0))

// setScalar parses raw into v: a duration (30s), string, bool, int, a
// comma-separated string list, or a string map written as
// key=value,key=value (staff.role_map).
func setScalar(v reflect.Value, raw string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("must be a duration such as 30s: %q", raw)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("must be true or false: %q", raw)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("must be an integer: %q", raw)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		v.Set(reflect.ValueOf(splitList(raw)))
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String:
		m := map[string]string{}
		for _, item := range splitList(raw) {
			k, val, ok := strings.Cut(item, "=")
			k, val = strings.TrimSpace(k), strings.TrimSpace(val)
			if !ok || k == "" || val == "" {
				return fmt.Errorf("must be key=value pairs separated by commas, such as cloud-ops=operator,acme-admins=partner_admin: %q", raw)
			}
			m[k] = val
		}
		v.Set(reflect.ValueOf(m))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

func splitList(raw string) []string {
	var items []string
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	return items
}

// ToolEnv are LIVERY_* variables that are not settings: the configuration
// file's location, the demo's account token, the compose file's master key
// and the test and benchmark harnesses' tools. UnknownEnv accepts them.
var ToolEnv = []string{"LIVERY_CONFIG", "LIVERY_DEMO_ACCOUNT_TOKEN", "LIVERY_MASTER_KEY",
	"LIVERY_REDIS_SERVER", "LIVERY_MINIO", "LIVERY_CHROMIUM", "LIVERY_AXE", "LIVERY_CACHE",
	"LIVERY_URL", "LIVERY_PID", "LIVERY_PAGE_BYTES"}

// toolEnvPrefixes are prefixes of the test harness's own variables.
var toolEnvPrefixes = []string{"LIVERY_OBJSTORE_CHILD_"}

// EnvNames lists every environment variable that overrides a setting of
// cfg, sorted (the tenant list's as LIVERY_TENANTS_<i>_..., one set per
// tenant in cfg).
func EnvNames(cfg *Config) []string {
	c := *cfg // walkLeaves may allocate nil sections: work on a copy
	var out []string
	walkLeaves(reflect.ValueOf(&c).Elem(), "", func(path string, _ reflect.StructField, _ reflect.Value) {
		out = append(out, envName(path))
	})
	sort.Strings(out)
	return out
}

// UnknownEnv returns the LIVERY_* variables of environ ("NAME=value"
// entries, as os.Environ) that are neither a setting of cfg nor one of
// ToolEnv, sorted. A misspelt or stale override is otherwise silently
// ignored: serve logs these as warnings, check-config refuses them.
func UnknownEnv(cfg *Config, environ []string) []string {
	known := map[string]bool{}
	for _, n := range EnvNames(cfg) {
		known[n] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || known[name] || slices.Contains(ToolEnv, name) {
			continue
		}
		if slices.ContainsFunc(toolEnvPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
