package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/internal/objstore"
)

// Customer states. A pending customer holds its reservations (account name,
// phone) while the cloud account is being created; a retry resumes it.
const (
	StatePending = "pending"
	StateActive  = "active"
)

// SceneRegistration is the verification-code scene of registrations.
const SceneRegistration = "29"

// Customer maps a partner-platform account to a cloud account. It is stored
// in the object store (the system of record) under CustomerKey.
type Customer struct {
	Tenant            string    `json:"tenant"`
	XAccountType      string    `json:"xaccount_type"`
	XAccountID        string    `json:"xaccount_id"`
	State             string    `json:"state"`
	DomainID          string    `json:"domain_id,omitempty"`
	DomainName        string    `json:"domain_name"`
	AssociationType   string    `json:"association_type"`
	AssociatedOn      time.Time `json:"associated_on,omitzero"`
	Phone             string    `json:"phone,omitempty"`
	CloseMarketMS     bool      `json:"close_market_ms,omitempty"`
	IndirectPartnerID string    `json:"indirect_partner_id,omitempty"`
	Label             string    `json:"label,omitempty"`
	Managers          []string  `json:"managers,omitempty"`
	// Admitting marks a reservation whose registration is still being
	// admitted (Meta.Admit, verification code): it holds no claims yet and
	// concurrent retries wait for the outcome instead of joining it.
	Admitting      bool      `json:"admitting,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
	KeyID          string    `json:"key_id,omitempty"`
	RequestID      string    `json:"request_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// CodeChecker consumes a verification code (see tenants/codes).
type CodeChecker interface {
	Check(ctx context.Context, tenant, phone, scene, code string) error
}

// Meta describes who asked, for the record and the audit trail, and how a
// new registration is admitted.
type Meta struct {
	KeyID     string
	RequestID string
	// Admit, when set, decides whether a new registration may proceed (e.g.
	// registration risk control, which charges quotas). Create calls it
	// exactly once per registration: in the one request that reserved the
	// xaccount, after the reservation and before the verification code is
	// checked or anything is claimed or provisioned. Retries of a finished
	// registration and requests joining one in flight never call it. An
	// error releases the reservation and is returned by Create as is.
	Admit func(ctx context.Context) error
}

// CustomerOptions configures a Customers service.
type CustomerOptions struct {
	Store       objstore.Store
	Provisioner Provisioner
	Codes       CodeChecker
	Index       Index
	// PhoneLimit is how many accounts one phone may hold across partners.
	PhoneLimit int
	Logger     *slog.Logger
	Now        func() time.Time
	// step, if set, runs after each durable step of a registration; an error
	// stops the registration there, as a crash would (tests inject faults).
	Step func(step string) error
}

// Customers registers, finds and lists partner customers.
type Customers struct {
	o    CustomerOptions
	kick chan struct{} // wakes RunIndexRepair after a failed index write

	mu      sync.Mutex
	flights map[string]*flight // index rebuilds in progress, by tenant
}

// NewCustomers builds the service; Store, Provisioner, Codes and Index are required.
func NewCustomers(o CustomerOptions) *Customers {
	if o.PhoneLimit <= 0 {
		panic("tenants: CustomerOptions.PhoneLimit must be positive (partner_api.phone_limit)")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Step == nil {
		o.Step = func(string) error { return nil }
	}
	return &Customers{o: o, kick: make(chan struct{}, 1), flights: map[string]*flight{}}
}

// PhoneLimit is the configured per-phone registration limit.
func (s *Customers) PhoneLimit() int { return s.o.PhoneLimit }

func hashHex(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// CustomerKey is where a tenant's customer for an xaccount is stored.
func CustomerKey(tenant, xaccountType, xaccountID string) string {
	return "tenants/" + tenant + "/customers/" + hashHex(xaccountType, xaccountID)[:40] + ".json"
}

func customersPrefix(tenant string) string { return "tenants/" + tenant + "/customers/" }

func nameKey(name string) string { return "names/" + hashHex(strings.ToLower(name))[:40] + ".json" }

func tenantPhoneKey(tenant, phone string) string {
	return "tenants/" + tenant + "/phones/" + hashHex(phone)[:40] + ".json"
}

func phoneSlotKey(phone string, i int) string {
	return fmt.Sprintf("phones/%s/%03d.json", hashHex(phone)[:40], i)
}

func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}

func newID() string { return ids.Hex(16) }

// ByDomainID returns the tenant's active customer with the cloud account id,
// or nil. Errors: ErrUnavailable.
func (s *Customers) ByDomainID(ctx context.Context, tenant, domainID string) (*Customer, error) {
	list, _, err := s.List(ctx, tenant, Query{CustomerID: domainID, Limit: 1})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}

// SetManagers assigns the customer managers of a customer (replacing the
// previous assignment) with compare-and-swap, and updates the index. It
// neither checks the ids against the staff directory nor audits: the admin
// API and the staff UI call Assignments.Assign, which does both. Errors: a
// missing customer is reported as ErrInvalid; store failures as
// ErrUnavailable.
func (s *Customers) SetManagers(ctx context.Context, tenant, domainID string, managers []string) (*Customer, error) {
	for _, m := range managers {
		if err := checkText("managers", m, 64, true); err != nil {
			return nil, err
		}
	}
	found, err := s.ByDomainID(ctx, tenant, domainID)
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, invalid("customer", "no such customer")
	}
	_, c, err := s.replaceManagers(ctx, tenant, found, func([]string) ([]string, error) { return managers, nil })
	return c, err
}
