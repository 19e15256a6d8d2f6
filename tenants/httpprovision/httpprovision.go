// Package httpprovision is the tenants.Provisioner that creates cloud
// accounts through the upstream cloud's account API (provisioner kind
// "http" in the configuration).
package httpprovision

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/livery/livery/tenants"
)

// Provisioner creates accounts through the account API: POST URL with a
// JSON tenants.ProvisionRequest and an Idempotency-Key header; the answer
// is 200/201 with a tenants.Account. 409 means the name is taken; other 4xx
// are definitive refusals; 5xx and network errors are transient.
type Provisioner struct {
	URL    string
	Token  string       // sent as a bearer token when set
	Client *http.Client // default: 10 s timeout
}

var _ tenants.Provisioner = (*Provisioner)(nil)

// Status asks the account API about an account: GET URL/<domain id>,
// answered 200 with {"frozen": bool, "partner": bool} or 404 (found
// false). Errors: any other answer, a malformed one, the network.
func (p *Provisioner) Status(ctx context.Context, domainID string) (st tenants.AccountStatus, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(p.URL, "/")+"/"+url.PathEscape(domainID), nil)
	if err != nil {
		return st, false, fmt.Errorf("account status: %w", err)
	}
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return st, false, fmt.Errorf("account status: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(msg, &st); err != nil {
			return st, false, fmt.Errorf("account status: malformed answer (%d bytes)", len(msg))
		}
		return st, true, nil
	case http.StatusNotFound:
		return st, false, nil
	default:
		return st, false, fmt.Errorf("account status: status %d", resp.StatusCode)
	}
}

func (p *Provisioner) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// CreateAccount calls the account API once (retries are the caller's, with
// the same idempotency key). Errors: a wrapped tenants.ErrNameTaken on 409,
// a wrapped tenants.ErrRejected on any other 4xx but 429; anything else
// (network, 429, 5xx, a malformed answer) is transient and wraps neither.
func (p *Provisioner) CreateAccount(ctx context.Context, r tenants.ProvisionRequest) (tenants.Account, error) {
	body, _ := json.Marshal(r)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return tenants.Account{}, fmt.Errorf("provision: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return tenants.Account{}, fmt.Errorf("provision: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
		var a tenants.Account
		if err := json.Unmarshal(msg, &a); err != nil || a.DomainID == "" {
			return tenants.Account{}, fmt.Errorf("provision: malformed answer (%d bytes)", len(msg))
		}
		return a, nil
	case resp.StatusCode == http.StatusConflict:
		return tenants.Account{}, fmt.Errorf("provision: %w", tenants.ErrNameTaken)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return tenants.Account{}, fmt.Errorf("provision: %w: status %d", tenants.ErrRejected, resp.StatusCode)
	default:
		return tenants.Account{}, fmt.Errorf("provision: status %d", resp.StatusCode)
	}
}
