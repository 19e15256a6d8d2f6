package seal

import (
	"strings"
	"testing"
)

func TestAEAD(t *testing.T) {
	if _, err := AEAD(make([]byte, 16)); err == nil || !strings.Contains(err.Error(), "32 bytes, got 16") {
		t.Fatalf("16-byte key: %v", err)
	}
	a, err := AEAD(make([]byte, 32))
	if err != nil || a.NonceSize() != 12 || a.Overhead() != 16 {
		t.Fatalf("32-byte key: %v", err)
	}
}
