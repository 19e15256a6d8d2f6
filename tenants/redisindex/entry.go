package redisindex

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/livery/livery/tenants"
)

// entry is a customer as the records hash stores it: every field of
// tenants.Customer but the tenant (the key's) and the account name (the
// hash field), under one-letter names, so that the largest part of the
// index stays small (TestEntryKeepsEveryField keeps it complete).
type entry struct {
	XAccountType      string    `json:"a,omitempty"`
	XAccountID        string    `json:"b,omitempty"`
	State             string    `json:"s,omitempty"`
	DomainID          string    `json:"d,omitempty"`
	AssociationType   string    `json:"t,omitempty"`
	AssociatedOn      time.Time `json:"o,omitzero"`
	Phone             string    `json:"p,omitempty"`
	CloseMarketMS     bool      `json:"m,omitempty"`
	IndirectPartnerID string    `json:"i,omitempty"`
	Label             string    `json:"l,omitempty"`
	Managers          []string  `json:"g,omitempty"`
	Admitting         bool      `json:"x,omitempty"`
	IdempotencyKey    string    `json:"k,omitempty"`
	KeyID             string    `json:"y,omitempty"`
	RequestID         string    `json:"r,omitempty"`
	CreatedAt         time.Time `json:"c,omitzero"`
}

func encode(c *tenants.Customer) ([]byte, error) {
	return json.Marshal(entry{c.XAccountType, c.XAccountID, c.State, c.DomainID, c.AssociationType, c.AssociatedOn,
		c.Phone, c.CloseMarketMS, c.IndirectPartnerID, c.Label, c.Managers, c.Admitting, c.IdempotencyKey, c.KeyID,
		c.RequestID, c.CreatedAt})
}

// decode reads a record value "<ordinal>|<entry JSON>" of tenant's
// customer name.
func decode(tenant, name, v string) (tenants.Customer, error) {
	_, j, ok := strings.Cut(v, "|")
	if !ok {
		return tenants.Customer{}, errors.New("index entry: no ordinal")
	}
	var e entry
	if err := json.Unmarshal([]byte(j), &e); err != nil {
		return tenants.Customer{}, fmt.Errorf("index entry: %w", err)
	}
	return tenants.Customer{Tenant: tenant, XAccountType: e.XAccountType, XAccountID: e.XAccountID, State: e.State,
		DomainID: e.DomainID, DomainName: name, AssociationType: e.AssociationType, AssociatedOn: e.AssociatedOn,
		Phone: e.Phone, CloseMarketMS: e.CloseMarketMS, IndirectPartnerID: e.IndirectPartnerID, Label: e.Label,
		Managers: e.Managers, Admitting: e.Admitting, IdempotencyKey: e.IdempotencyKey, KeyID: e.KeyID,
		RequestID: e.RequestID, CreatedAt: e.CreatedAt}, nil
}
