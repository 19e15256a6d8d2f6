package ids

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestForms(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, h := Token(), Hex(16)
		if b, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(b) != 32 || len(tok) != 43 {
			t.Fatalf("Token %q: %d bytes, %v", tok, len(b), err)
		}
		if b, err := hex.DecodeString(h); err != nil || len(b) != 16 {
			t.Fatalf("Hex(16) %q: %v", h, err)
		}
		if seen[tok] || seen[h] {
			t.Fatal("repeated id")
		}
		seen[tok], seen[h] = true, true
	}
	if len(Hex(4)) != 8 {
		t.Fatal("Hex(4) is not 8 digits")
	}
}

func TestSortable(t *testing.T) {
	a := Sortable(time.Date(2026, 2, 13, 15, 4, 5, 123456789, time.FixedZone("x", 3600)))
	if !strings.HasPrefix(a, "20260213T140405123456789Z-") || len(a) != len("20260213T140405123456789Z-")+8 {
		t.Fatalf("Sortable = %q", a)
	}
	b := Sortable(time.Date(2026, 2, 13, 14, 4, 5, 123456790, time.UTC))
	if !(a < b) {
		t.Fatalf("%q does not sort before %q", a, b)
	}
}
