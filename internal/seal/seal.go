// Package seal builds the AES-256-GCM cipher that seals stored secrets
// (partner secret keys, tenants' OIDC client secrets) under the master key
// (security.master_key).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
)

// AEAD is AES-256-GCM under masterKey. Errors: a key that is not 32 bytes.
func AEAD(masterKey []byte) (cipher.AEAD, error) {
	if len(masterKey) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, got %d", len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
