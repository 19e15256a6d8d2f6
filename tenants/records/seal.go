package records

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/livery/livery/internal/seal"
)

// Secret fields, bound into the sealed value so that a sealed secret
// cannot be moved to another tenant or field.
const (
	FieldClientSecret     = "sign_in.client_secret"
	FieldProvisionerToken = "provisioner.token"
)

// ErrUnseal: a sealed secret does not decrypt under the master key (a
// different key, or the value was moved or altered).
var ErrUnseal = errors.New("records: secret does not decrypt under the master key")

// Unsealer opens sealed tenant secrets.
type Unsealer interface {
	// Open returns the plain text of sealed, bound to tenant and field.
	// Errors: ErrUnseal (wrapped).
	Open(tenant, field string, sealed []byte) ([]byte, error)
}

// Sealer seals and opens tenant secrets with AES-256-GCM under the master
// key (the key that seals partner secret keys). Safe for concurrent use.
type Sealer struct{ aead cipher.AEAD }

var _ Unsealer = (*Sealer)(nil)

// NewSealer uses a 32-byte master key. Errors: a key of another length.
func NewSealer(masterKey []byte) (*Sealer, error) {
	aead, err := seal.AEAD(masterKey)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

func aad(tenant, field string) []byte {
	return []byte("livery-tenant-secret\x00" + tenant + "\x00" + field)
}

// Seal returns nonce || ciphertext of plain, bound to tenant and field.
func (s *Sealer) Seal(tenant, field string, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, aad(tenant, field))
}

// Open implements Unsealer.
func (s *Sealer) Open(tenant, field string, sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < ns {
		return nil, fmt.Errorf("%w: %s of %s is truncated", ErrUnseal, field, tenant)
	}
	p, err := s.aead.Open(nil, sealed[:ns], sealed[ns:], aad(tenant, field))
	if err != nil {
		return nil, fmt.Errorf("%w: %s of %s", ErrUnseal, field, tenant)
	}
	return p, nil
}
