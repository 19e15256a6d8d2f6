package tenants

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
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

// Provisioner creates cloud accounts. Errors other than ErrRejected and
// ErrNameTaken are treated as transient: the registration stays reserved so
// that a retry resumes it with the same idempotency key.
type Provisioner interface {
	CreateAccount(ctx context.Context, r ProvisionRequest) (Account, error)
}

// Builtin is the embedded provisioner: it derives the account id from the
// idempotency key, so it is idempotent without storing anything.
type Builtin struct{}

// CreateAccount never fails.
func (Builtin) CreateAccount(_ context.Context, r ProvisionRequest) (Account, error) {
	sum := sha256.Sum256([]byte("livery-builtin-account\x00" + r.IdempotencyKey))
	return Account{DomainID: hex.EncodeToString(sum[:16]), DomainName: r.DomainName}, nil
}

// HTTPProvisioner creates accounts through the upstream cloud's account API:
// POST URL with a JSON ProvisionRequest and an Idempotency-Key header; the
// answer is 200/201 with an Account. 409 means the name is taken; other 4xx
// are definitive refusals; 5xx and network errors are transient.
type HTTPProvisioner struct {
	URL    string
	Token  string       // sent as a bearer token when set
	Client *http.Client // default: 10 s timeout
}

// CreateAccount calls the account API once (retries are the caller's, with
// the same idempotency key).
func (p *HTTPProvisioner) CreateAccount(ctx context.Context, r ProvisionRequest) (Account, error) {
	body, _ := json.Marshal(r)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return Account{}, fmt.Errorf("provision: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return Account{}, fmt.Errorf("provision: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
		var a Account
		if err := json.Unmarshal(msg, &a); err != nil || a.DomainID == "" {
			return Account{}, fmt.Errorf("provision: malformed answer (%d bytes)", len(msg))
		}
		return a, nil
	case resp.StatusCode == http.StatusConflict:
		return Account{}, fmt.Errorf("provision: %w", ErrNameTaken)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return Account{}, fmt.Errorf("provision: %w: status %d", ErrRejected, resp.StatusCode)
	default:
		return Account{}, fmt.Errorf("provision: status %d", resp.StatusCode)
	}
}
