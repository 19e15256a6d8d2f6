package objstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
)

func TestValidateKey(t *testing.T) {
	valid := []string{
		"a", "a/b/c", "tenants/acme/sessions/01J.json", "%2e%2e/x", "%2E%2E", "...", ".a", "a..", "a/.b/c",
		"ünïcode/ключ", "with space", strings.Repeat("x", 250), strings.Repeat("a/", 511) + "ab",
	}
	for _, k := range valid {
		if err := objstore.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	invalid := append([]string{
		strings.Repeat("x", 251), "a/" + strings.Repeat("x", 251), "\u0085next", "a\\..\\b", "..\\x",
	}, objstoretest.InvalidKeys...)
	for _, k := range invalid {
		if err := objstore.ValidateKey(k); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b", ".", "..", "a/.", "%2e%2e/"} {
		if err := objstore.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "../", "a//", "a/../", "./", "a\\", "\x00"} {
		if err := objstore.ValidatePrefix(p); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
}
