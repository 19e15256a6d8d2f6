package render

import (
	"slices"
	"strings"
	"testing"
)

// checkCached asserts that a CSPCache gives exactly what AdjustCSPValues
// gives, on a miss, on a hit, and on a hit for the same policies with
// other nonce values.
func checkCached(t *testing.T, c *CSPCache, values []string) {
	t.Helper()
	want, wantNonce := AdjustCSPValues(values, testHash)
	for _, round := range []string{"miss", "hit"} {
		got, nonce := c.Adjust(values, testHash)
		if !slices.Equal(got, want) || nonce != wantNonce {
			t.Fatalf("%s: Adjust(%q) = %q, %q; AdjustCSPValues = %q, %q", round, values, got, nonce, want, wantNonce)
		}
	}
	// The same policies with each nonce value replaced by another one.
	renamed := make([]string, len(values))
	for i, v := range values {
		renamed[i] = renameNonces(v)
	}
	want, wantNonce = AdjustCSPValues(renamed, testHash)
	if got, nonce := c.Adjust(renamed, testHash); !slices.Equal(got, want) || nonce != wantNonce {
		t.Fatalf("renamed nonces: Adjust(%q) = %q, %q; AdjustCSPValues = %q, %q", renamed, got, nonce, want, wantNonce)
	}
}

// renameNonces gives every valid nonce value in v a new value (equal
// values stay equal).
func renameNonces(v string) string {
	return replaceNonces(v, func(val string) (string, bool) { return "r3n4m3d" + val, true })
}

func TestCSPCache(t *testing.T) {
	tests := []struct {
		name   string
		values []string
	}{
		{"none", nil},
		{"empty value", []string{""}},
		{"unchanged", []string{"default-src 'self'; style-src 'self' 'unsafe-inline'"}},
		{"hash added", []string{"default-src 'none'; img-src 'self'"}},
		{"nonce reused", []string{"style-src 'nonce-abc123'; img-src https://cdn.example"}},
		{"nonce keyword in capitals", []string{"STYLE-SRC 'NONCE-Abc+/='; img-src 'none'"}},
		{"nonce copied into img-src", []string{"default-src 'nonce-abc'"}},
		{"two policies, one nonce", []string{"style-src 'nonce-a1', style-src 'nonce-a1' 'self'", "img-src data:"}},
		{"two policies, two nonces", []string{"style-src 'nonce-first'", "style-src 'nonce-second'"}},
		{"invalid nonce values are not masked", []string{"style-src 'nonce-a!b' 'nonce-' 'nonce-0'"}},
		{"placeholder-looking nonce", []string{"style-src 'nonce-1' 'nonce-0'; img-src 'nonce-0'"}},
		{"nonce inside a token is not a source", []string{"style-src x'nonce-abc' 'nonce-abc'y"}},
		{"separators", []string{"style-src\t'nonce-n1';img-src 'nonce-n2',style-src 'nonce-n2'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCached(t, &CSPCache{}, tt.values)
		})
	}
}

func TestCSPCacheReusesEntriesAcrossNonces(t *testing.T) {
	var c CSPCache
	for _, n := range []string{"aaa", "bbb", "ccc"} {
		got, nonce := c.Adjust([]string{"style-src 'nonce-" + n + "'; img-src https://cdn.example"}, testHash)
		want := []string{"style-src 'nonce-" + n + "'; img-src https://cdn.example 'self'"}
		if !slices.Equal(got, want) || nonce != n {
			t.Fatalf("nonce %s: got %q %q, want %q", n, got, nonce, want)
		}
	}
	if got := c.n.Load(); got != 1 {
		t.Errorf("%d cache entries for one policy with three nonces, want 1", got)
	}
}

func TestCSPCacheBounded(t *testing.T) {
	c := CSPCache{Max: 4}
	for i := range 10 {
		p := []string{"img-src https://h" + strings.Repeat("x", i) + ".example"}
		checkCached(t, &c, p)
		if n := c.n.Load(); n < 1 || n > 4 {
			t.Fatalf("after %d policies the cache counts %d entries, want 1..4", i+1, n)
		}
	}
	entries := 0
	c.m.Range(func(any, any) bool { entries++; return true })
	if entries > 4 {
		t.Errorf("%d entries stored, Max is 4", entries)
	}
}

func TestMaskNoncesRoundTrip(t *testing.T) {
	in := "style-src 'nonce-xyz' 'NONCE-xyz' 'nonce-other'; img-src 'nonce-a!b'"
	masked, nonces := maskNonces(in, nil)
	if want := "style-src 'nonce-0' 'NONCE-0' 'nonce-1'; img-src 'nonce-a!b'"; masked != want {
		t.Errorf("masked %q, want %q", masked, want)
	}
	if !slices.Equal(nonces, []string{"xyz", "other"}) {
		t.Errorf("nonces %q", nonces)
	}
	if back, ok := unmaskNonces(masked, nonces); back != in || !ok {
		t.Errorf("unmasked %q (ok %v), want %q", back, ok, in)
	}
	if _, ok := unmaskNonces("style-src 'nonce-7'", nonces); ok {
		t.Error("a placeholder without a value was accepted")
	}
}

func TestCSPCacheKeysAreUnambiguous(t *testing.T) {
	var c CSPCache
	checkCached(t, &c, []string{"img-src a\x00img-src b"})
	checkCached(t, &c, []string{"img-src a", "img-src b"})
	checkCached(t, &c, []string{"img-src a\x00", "img-src b"})
}
