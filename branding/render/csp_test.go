package render

import (
	"slices"
	"strings"
	"testing"
)

const testHash = "sha256-H"

func TestAdjustCSP(t *testing.T) {
	const h = "'" + testHash + "'"
	for _, tc := range []struct {
		name, in, want, nonce string
	}{
		{"empty", "", "", ""},
		{"blank", "  ", "  ", ""},
		{"default self", "default-src 'self'", "default-src 'self'; style-src 'self' " + h, ""},
		{"default none", "default-src 'none'", "default-src 'none'; style-src " + h + " 'self'; img-src 'self'", ""},
		{"default none upper", "Default-Src 'NONE'", "Default-Src 'NONE'; style-src " + h + " 'self'; img-src 'self'", ""},
		{"default star", "default-src *", "default-src *; style-src * " + h, ""},
		{"default star inline", "default-src * 'unsafe-inline'", "default-src * 'unsafe-inline'", ""},
		{"default nonce", "default-src 'self' 'nonce-dn'", "default-src 'self' 'nonce-dn'", "dn"},
		{"style nonce", "style-src 'self' 'nonce-abc123'", "style-src 'self' 'nonce-abc123'", "abc123"},
		{"style nonce without self (link gets the nonce)", "style-src 'nonce-abc'; img-src 'self'", "style-src 'nonce-abc'; img-src 'self'", "abc"},
		{"nonce keyword case-insensitive, value not", "DEFAULT-SRC 'SELF'; STYLE-SRC 'NONCE-AbC+/='", "DEFAULT-SRC 'SELF'; STYLE-SRC 'NONCE-AbC+/='", "AbC+/="},
		{"unsafe-inline with nonce: use the nonce", "style-src 'self' 'unsafe-inline' 'nonce-n0'", "style-src 'self' 'unsafe-inline' 'nonce-n0'", "n0"},
		{"unsafe-inline with hash: add ours", "style-src 'self' 'unsafe-inline' 'sha256-xyz='", "style-src 'self' 'unsafe-inline' 'sha256-xyz=' " + h, ""},
		{"unsafe-inline with sha384", "style-src 'unsafe-inline' 'SHA384-abc'", "style-src 'unsafe-inline' 'SHA384-abc' " + h + " 'self'", ""},
		{"unsafe-inline only: just 'self'", "style-src 'unsafe-inline'; img-src data:", "style-src 'unsafe-inline' 'self'; img-src data: 'self'", ""},
		{"unsafe-inline and self: unchanged", "style-src 'self' 'unsafe-inline'", "style-src 'self' 'unsafe-inline'", ""},
		{"invalid nonce ignored", "style-src 'nonce-bad!'", "style-src 'nonce-bad!' " + h + " 'self'", ""},
		{"empty nonce ignored", "style-src 'nonce-'", "style-src 'nonce-' " + h + " 'self'", ""},
		{"style-src-elem wins", "style-src 'nonce-n'; style-src-elem 'self'", "style-src 'nonce-n'; style-src-elem 'self' " + h, ""},
		{"style-src-elem nonce", "default-src 'self'; style-src-elem 'self' 'nonce-n1'; style-src 'self'", "default-src 'self'; style-src-elem 'self' 'nonce-n1'; style-src 'self'", "n1"},
		{"style-src over default", "default-src 'nonce-d'; style-src 'self'", "default-src 'nonce-d'; style-src 'self' " + h + "; img-src 'nonce-d' 'self'", ""},
		{"only style-src-attr", "style-src-attr 'none'", "style-src-attr 'none'", ""},
		{"no style or img directives", "script-src 'nonce-xyz' 'strict-dynamic' 'unsafe-eval' https: http:; object-src 'none'; base-uri 'self'; report-uri /csp",
			"script-src 'nonce-xyz' 'strict-dynamic' 'unsafe-eval' https: http:; object-src 'none'; base-uri 'self'; report-uri /csp", ""},
		{"upgrade only", "upgrade-insecure-requests", "upgrade-insecure-requests", ""},
		{"frame-ancestors only", "frame-ancestors 'none'", "frame-ancestors 'none'", ""},
		{"whitespace", "  style-src\t'self'   ;  img-src https://cdn.example  ", "style-src 'self' " + h + "; img-src https://cdn.example 'self'", ""},
		{"empty style-src", "style-src;", "style-src " + h + " 'self'", ""},
		{"empty directives dropped when rewritten", "default-src 'self';;", "default-src 'self'; style-src 'self' " + h, ""},
		{"duplicate directive: first wins", "style-src 'self'; style-src 'unsafe-inline'", "style-src 'self' " + h + "; style-src 'unsafe-inline'", ""},
		{"img none", "img-src 'none'; style-src 'self' 'unsafe-inline'", "img-src 'self'; style-src 'self' 'unsafe-inline'", ""},
		{"self upper-case", "style-src 'SELF' 'unsafe-inline'; img-src 'Self'", "style-src 'SELF' 'unsafe-inline'; img-src 'Self'", ""},
		{"already adjusted", "style-src 'self' " + h, "style-src 'self' " + h, ""},
		{"github-like",
			"default-src 'none'; base-uri 'self'; connect-src 'self' uploads.github.com; font-src github.githubassets.com; form-action 'self' github.com; frame-ancestors 'none'; img-src 'self' data: github.githubassets.com; script-src github.githubassets.com; style-src 'unsafe-inline' github.githubassets.com; upgrade-insecure-requests",
			"default-src 'none'; base-uri 'self'; connect-src 'self' uploads.github.com; font-src github.githubassets.com; form-action 'self' github.com; frame-ancestors 'none'; img-src 'self' data: github.githubassets.com; script-src github.githubassets.com; style-src 'unsafe-inline' github.githubassets.com 'self'; upgrade-insecure-requests", ""},
		{"strict app",
			"default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; style-src 'self';base-uri 'self';form-action 'self'",
			"default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; style-src 'self' " + h + "; base-uri 'self'; form-action 'self'", ""},
		{"cdn only",
			"default-src 'self' https://*.example.com; img-src https://img.example.com; style-src https://static.example.com 'sha256-abc='",
			"default-src 'self' https://*.example.com; img-src https://img.example.com 'self'; style-src https://static.example.com 'sha256-abc=' " + h + " 'self'", ""},
		{"fonts google inline", "default-src 'self' https://*.example.com; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
			"default-src 'self' https://*.example.com; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com", ""},
		{"report-sample and report-to kept", "default-src 'self'; style-src 'report-sample' 'self'; report-to csp-endpoint",
			"default-src 'self'; style-src 'report-sample' 'self' " + h + "; report-to csp-endpoint", ""},
		{"two policies, one nonce", "default-src 'self', style-src 'nonce-n1'",
			"default-src 'self'; style-src 'self' " + h + ", style-src 'nonce-n1'", "n1"},
		{"two policies, two nonces", "style-src 'nonce-a', style-src 'nonce-b'",
			"style-src 'nonce-a', style-src 'nonce-b' " + h + " 'self'", "a"},
		{"two policies, same nonce", "style-src 'nonce-a' 'self', default-src 'nonce-a' 'self'",
			"style-src 'nonce-a' 'self', default-src 'nonce-a' 'self'", "a"},
		{"two policies, second needs img", "style-src 'unsafe-inline' 'self',img-src https://x.example",
			"style-src 'unsafe-inline' 'self', img-src https://x.example 'self'", ""},
		{"trailing comma kept", "style-src 'self' 'unsafe-inline',", "style-src 'self' 'unsafe-inline',", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, nonce := AdjustCSP(tc.in, testHash)
			if got != tc.want || nonce != tc.nonce {
				t.Errorf("AdjustCSP(%q)\n got %q nonce %q\nwant %q nonce %q", tc.in, got, nonce, tc.want, tc.nonce)
			}
			checkAdjusted(t, tc.in, got, nonce)
		})
	}
}

func TestAdjustCSPValues(t *testing.T) {
	in := []string{"default-src 'self'", "style-src 'nonce-x'", ""}
	orig := slices.Clone(in)
	got, nonce := AdjustCSPValues(in, testHash)
	want := []string{"default-src 'self'; style-src 'self' '" + testHash + "'", "style-src 'nonce-x'", ""}
	if !slices.Equal(got, want) || nonce != "x" || !slices.Equal(in, orig) {
		t.Errorf("got %q %q (input now %q)", got, nonce, in)
	}
	if got, nonce := AdjustCSPValues(nil, testHash); len(got) != 0 || nonce != "" {
		t.Errorf("nil: %q %q", got, nonce)
	}
}

// checkAdjusted asserts the invariants of AdjustCSP: same policies, same
// directives in the same order (plus at most style-src and img-src at the
// end), every original source kept except 'none', only 'self' and our hash
// added, a returned nonce present and valid, and idempotence.
func checkAdjusted(t *testing.T, in, out, nonce string) {
	t.Helper()
	if nonce != "" && (!ValidNonce(nonce) || !strings.Contains(in, nonce)) {
		t.Errorf("bad nonce %q", nonce)
	}
	pin, pout := parsePolicies(in), parsePolicies(out)
	if len(pin) != len(pout) {
		t.Fatalf("%d policies became %d", len(pin), len(pout))
	}
	for i := range pin {
		din, dout := pin[i].dirs, pout[i].dirs
		if len(dout) < len(din) || len(dout) > len(din)+2 {
			t.Fatalf("policy %d: %d directives became %d", i, len(din), len(dout))
		}
		for k := range dout {
			if k >= len(din) {
				if n := dout[k].name; n != "style-src" && n != "img-src" || slices.IndexFunc(din, func(d directive) bool { return d.name == n }) >= 0 {
					t.Errorf("policy %d: unexpected added directive %q", i, n)
				}
				continue
			}
			if din[k].name != dout[k].name {
				t.Fatalf("policy %d: directive %q became %q", i, din[k].name, dout[k].name)
			}
			for _, s := range din[k].sources {
				if !strings.EqualFold(s, "'none'") && !slices.Contains(dout[k].sources, s) {
					t.Errorf("policy %d: %s lost source %q", i, din[k].name, s)
				}
			}
			added := len(dout[k].sources) - len(din[k].sources)
			if added > 0 {
				for _, s := range dout[k].sources[len(dout[k].sources)-added:] {
					if s != "'self'" && s != "'"+testHash+"'" {
						t.Errorf("policy %d: %s: unexpected added source %q", i, din[k].name, s)
					}
				}
			}
		}
	}
	if again, n2 := AdjustCSP(out, testHash); again != out || n2 != nonce {
		t.Errorf("not idempotent: %q -> %q (nonce %q -> %q)", out, again, nonce, n2)
	}
}

func FuzzAdjustCSP(f *testing.F) {
	for _, s := range []string{"", "default-src 'self'", "default-src 'none'; img-src 'none'", "style-src 'nonce-abc' 'unsafe-inline'",
		"style-src 'unsafe-inline' 'sha256-x', default-src *", "STYLE-SRC-ELEM 'NONCE-x'; style-src;;", ",,;", "img-src\t'none'\fdata:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, nonce := AdjustCSP(in, testHash)
		checkAdjusted(t, in, out, nonce)
		checkCached(t, &CSPCache{}, strings.Split(in, "\n"))
	})
}
