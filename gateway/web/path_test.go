package web

import (
	"errors"
	"testing"
)

// TestCanonicalPath: the canonical form of console paths, and the
// spellings refused because some server would read them as another path.
func TestCanonicalPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "": refused
	}{
		// Already canonical: returned as they are.
		{"/", "/"},
		{"/billing", "/billing"},
		{"/a/b/", "/a/b/"},
		{"/static/App.JS", "/static/App.JS"},
		{"/.well-known/x", "/.well-known/x"},
		{"/a..b/c", "/a..b/c"},
		{"/x-y_z~!$&'()*+,=:@", "/x-y_z~!$&'()*+,=:@"},
		{"", "/"},

		// Encodings: unreserved decoded, the rest kept in upper case.
		{"/%61dmin", "/admin"},
		{"/%41DMIN", "/ADMIN"},
		{"/what%3f.txt", "/what%3F.txt"},
		{"/what%3F.txt", "/what%3F.txt"},
		{"/100%25", "/100%25"},
		{"/100%25x", "/100%25x"},
		{"/a%23b", "/a%23b"},
		{"/my%20file.pdf", "/my%20file.pdf"},
		{"/%E6%96%87%E4%BB%B6", "/%E6%96%87%E4%BB%B6"},
		{"/%e6%96%87", "/%E6%96%87"},
		{"/\xe6\x96\x87", "/%E6%96%87"},
		{"/\xe6%96\x87", "/%E6%96%87"},
		{"/a|b{c}", "/a%7Cb%7Bc%7D"},
		{"/a\"<>^`[]", "/a%22%3C%3E%5E%60%5B%5D"},

		// Dot-segments, encoded or not, and empty segments.
		{"/./admin", "/admin"},
		{"/x/../admin", "/admin"},
		{"/x/..", "/"},
		{"/x/.", "/x/"},
		{"/a/b/../", "/a/"},
		{"/..", "/"},
		{"/../../admin", "/admin"},
		{"/%2e%2e/admin", "/admin"},
		{"/%2E%2e/admin", "/admin"},
		{"/.%2e/admin", "/admin"},
		{"/x/%2e/admin", "/x/admin"},
		{"/_livery/../billing", "/billing"},
		{"/_livery/%2e%2e/billing", "/billing"},
		{"/_livery/x/../../admin/secrets", "/admin/secrets"},
		{"//admin", "/admin"},
		{"/a//b", "/a/b"},
		{"/a//", "/a/"},
		{"///", "/"},
		{"/a//../b", "/b"},

		// Refused: path parameters and alternative separators.
		{"/admin;x", ""},
		{"/admin;", ""},
		{"/admin%3b", ""},
		{"/admin%3B", ""},
		{"/admin\\x", ""},
		{"/admin%5cx", ""},
		{"/admin%5Cx", ""},
		{"/admin%2fx", ""},
		{"/admin%2Fx", ""},
		{"/files/a%2Fb", ""},
		{"/..%2fadmin", ""},
		// Controls and whitespace, raw or encoded.
		{"/admin%00", ""},
		{"/admin%00.html", ""},
		{"/admin%09", ""},
		{"/admin%0a", ""},
		{"/admin%0D", ""},
		{"/admin%7f", ""},
		{"/admin\t", ""},
		{"/admin ", ""},
		{"/admin\x00", ""},
		{"/admin\x7f", ""},
		{"/admin%20", ""},
		{"/%20admin", ""},
		{"/admin%20/x", ""},
		{"/admin%C2%A0", ""},    // no-break space
		{"/ad%E2%80%8Bmin", ""}, // zero-width space
		{"/admin%C2%85", ""},    // NEL (C1 control)
		{"/admin%EF%BB%BF", ""}, // BOM
		// Trailing dots.
		{"/admin.", ""},
		{"/admin./x", ""},
		{"/admin%2e", ""},
		{"/admin...", ""},
		{"/admin%20.", ""},
		// Malformed, double or non-UTF-8 encodings.
		{"/x%zz", ""},
		{"/x%", ""},
		{"/x%4", ""},
		{"/%u0061dmin", ""},
		{"/%2561dmin", ""},
		{"/%252e%252e/admin", ""},
		{"/%25%36%31dmin", ""},
		{"/%25%32%45", ""},
		{"/%C0%AE%C0%AE/admin", ""}, // overlong "."
		{"/%C0%AFadmin", ""},        // overlong "/"
		{"/%E0%80%AE", ""},
		{"/%ED%A0%80", ""}, // surrogate
		{"/%C3", ""},
		{"/%C3x", ""},
		{"/\xff", ""},
		{"/\xc3", ""},
		// Look-alikes folded to ASCII by some servers.
		{"/%EF%BC%8Fadmin", ""}, // full-width solidus
		{"/admin%EF%BC%8E", ""}, // full-width full stop
		{"/%EF%BC%BCadmin", ""}, // full-width reverse solidus
		{"/%E2%80%A5/admin", ""},
		// Not a path.
		{"admin", ""},
		{"*", ""},
	} {
		got, err := CanonicalPath(tc.in)
		if tc.want == "" {
			var pe errPath
			if err == nil || !errors.As(err, &pe) {
				t.Errorf("canonicalPath(%q) = %q, %v; want refused", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("canonicalPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			continue
		}
		// The form is a fixed point, on the fast path and the slow one.
		if again, err := CanonicalPath(got); err != nil || again != got {
			t.Errorf("canonicalPath(%q) = %q, %v: not a fixed point", got, again, err)
		}
		if slow, err := canonicalize(got); err != nil || slow != got {
			t.Errorf("canonicalize(%q) = %q, %v", got, slow, err)
		}
		if n := testing.AllocsPerRun(10, func() { _, _ = CanonicalPath(got) }); n != 0 {
			t.Errorf("canonicalPath(%q) allocates %.0f times for a canonical path", got, n)
		}
	}
}

func TestIsLiveryPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/_livery": true, "/_livery/": true, "/_livery/login": true, "/_LIVERY/x": true, "/_Livery": true,
		"/_liveryx": false, "/_livery-x/": false, "/": false, "/x/_livery/": false, "/_liver": false,
	} {
		if got := IsLiveryPath(p); got != want {
			t.Errorf("isLiveryPath(%q) = %v", p, got)
		}
	}
}

// BenchmarkCanonicalPath: an already canonical path costs one scan and no
// allocation; one to rewrite costs one allocation.
func BenchmarkCanonicalPath(b *testing.B) {
	for _, bc := range []struct{ name, path string }{
		{"canonical", "/console/api/v1/regions/cn-north-4/instances/i-0123456789abcdef"},
		{"rewrite", "/console/api/v1/regions/../%63n-north-4//instances/%e6%96%87"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CanonicalPath(bc.path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = CanonicalPath("/console/api/v1/instances/i-1") }); n != 0 {
		b.Fatalf("canonical path allocates %.0f times", n)
	}
}
