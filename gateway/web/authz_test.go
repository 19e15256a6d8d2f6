package web

import (
	"slices"
	"testing"
)

// TestAuthzObjects: the forms of a path the authorizer decides.
func TestAuthzObjects(t *testing.T) {
	for _, tc := range []struct {
		path string
		want []string // nil: malformed
	}{
		{"/", []string{"/"}},
		{"/billing", []string{"/billing"}},
		{"/Admin", []string{"/Admin", "/admin"}},
		{"/%61dmin/x", []string{"/%61dmin/x", "/admin/x"}},
		{"/%2561dmin", []string{"/%2561dmin", "/%61dmin", "/admin"}},
		{"/%252561dmin", []string{"/%252561dmin", "/%2561dmin", "/%61dmin", "/admin"}},
		{"/%41DMIN", []string{"/%41DMIN", "/ADMIN", "/%41dmin", "/admin"}},
		{"/what%3F.txt", []string{"/what%3F.txt", "/what%3f.txt"}},
		{"/a%23b", []string{"/a%23b"}},
		{"/100%25", []string{"/100%25", "/100%"}},
		{"/%2e%2e/admin", []string{"/%2e%2e/admin", "/../admin"}},
		{"/x%zz", nil},
		{"/x%", nil},
	} {
		got, ok := authzObjects(tc.path)
		if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("authzObjects(%q) = %q, %v; want %q", tc.path, got, ok, tc.want)
		}
	}
}
