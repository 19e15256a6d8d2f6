package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Account is a cloud account created by a Provisioner.
type Account struct {
	DomainID   string `json:"domain_id"`
	DomainName string `json:"domain_name"`
}

// ProvisionRequest asks the cloud for a new account. IdempotencyKey is the
// same for every retry of one registration: a provisioner must return the
// account it already created for a key instead of creating another.
type ProvisionRequest struct {
	IdempotencyKey  string `json:"-"`
	Tenant          string `json:"partner_id"`
	DomainName      string `json:"domain_name"`
	Password        string `json:"password,omitempty"`
	Phone           string `json:"mobile_phone,omitempty"`
	CloseMarketMS   bool   `json:"is_close_market_ms"`
	AssociationType string `json:"association_type"`
}

// ErrRejected is a definitive refusal by the cloud (not worth retrying);
// the registration is rolled back. Provisioners wrap it, or ErrNameTaken
// when the cloud already has the account name.
var ErrRejected = errors.New("provisioning rejected")

// Provisioner creates cloud accounts (Builtin, or the upstream's account
// API: tenants/httpprovision). Errors other than ErrRejected and
// ErrNameTaken are treated as transient: the registration stays reserved so
// that a retry resumes it with the same idempotency key.
type Provisioner interface {
	CreateAccount(ctx context.Context, r ProvisionRequest) (Account, error)
}

// AccountStatus is what the cloud says about one of its accounts.
type AccountStatus struct {
	Frozen  bool `json:"frozen"`  // the account is frozen (冻结)
	Partner bool `json:"partner"` // the account is itself a partner's
}

// Builtin is the embedded provisioner: it derives the account id from the
// idempotency key, so it is idempotent without storing anything.
type Builtin struct{}

// CreateAccount never fails.
func (Builtin) CreateAccount(_ context.Context, r ProvisionRequest) (Account, error) {
	sum := sha256.Sum256([]byte("livery-builtin-account\x00" + r.IdempotencyKey))
	return Account{DomainID: hex.EncodeToString(sum[:16]), DomainName: r.DomainName}, nil
}
