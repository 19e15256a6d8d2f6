package partnerapi

import "testing"

// TestClientContextForms: the canonical forms themselves.
func TestClientContextForms(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.7": "198.51.100.7", "::ffff:198.51.100.7": "198.51.100.7", "::ffff:c633:6407": "198.51.100.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "2001:DB8:1:2::": "2001:db8:1:2::/64", "::1": "::/64",
	} {
		if got, err := parseClientAddress(in); err != nil || got != want {
			t.Errorf("parseClientAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"dev-A": "dev-a", "  Dev-a ": "dev-a", "AbC+/=:._-9": "abc+/=:._-9"} {
		if got, err := normalizeDevice(in); err != nil || got != want {
			t.Errorf("normalizeDevice(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
