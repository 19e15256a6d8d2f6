package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// claim records which customer owns a unique value (name, phone slot).
type claim struct {
	Tenant      string `json:"tenant"`
	CustomerKey string `json:"customer_key"`
}

// Create registers a customer, or returns the one already registered for
// the xaccount (create is idempotent by tenant, xaccount_type and
// xaccount_id). Every step is durable before the next starts and each
// unique value is claimed with a create-only write, so concurrent requests
// cannot both win and a failure or crash at any point leaves a reservation
// that the next retry completes: never an orphan, never a duplicate.
//
// Admission: the request whose create-only write reserves the xaccount
// admits it (meta.Admit, then the verification code) while the reservation
// is marked Admitting; concurrent requests for the same xaccount wait for
// that outcome (up to admissionWait) and then answer alike: the same
// customer, or, after a refusal, their own admission. So N identical
// concurrent requests are admitted, and charged, once.
//
// Errors: ErrXAccountUsed (same xaccount, different name), ErrNameTaken,
// ErrPhoneExists, ErrPhoneLimit, ErrRejected, the verification-code errors
// of the CodeChecker, the errors of meta.Admit (as returned), ErrInProgress
// when another request's admission did not finish within admissionWait, or
// ErrUnavailable (wrapped with the cause) when a dependency failed — a retry
// then resumes.
func (s *Customers) Create(ctx context.Context, tenant string, reg Registration, meta Meta) (*Customer, error) {
	key := CustomerKey(tenant, reg.XAccountType, reg.XAccountID)
	giveUp := time.Now().Add(admissionWait)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		cur, obj, err := objstore.GetJSON[Customer](ctx, s.o.Store, key)
		switch {
		case err == nil:
			if reg.DomainName != "" && !strings.EqualFold(reg.DomainName, cur.DomainName) {
				return nil, ErrXAccountUsed
			}
			switch {
			case cur.State == StateActive:
				s.index(ctx, &cur, false)
				return &cur, nil
			case !cur.Admitting:
				return s.complete(ctx, key, &cur, obj.ETag, reg)
			case s.o.Now().Sub(cur.CreatedAt) > admissionStale:
				// Its request died while admitting; it holds no claims.
				if err := s.o.Store.Delete(ctx, key); err != nil {
					return nil, unavailable("release stale reservation", err)
				}
				continue
			}
			// Another request is admitting this registration: wait for it.
		case !errors.Is(err, objstore.ErrNotFound):
			return nil, unavailable("read customer", err)
		default:
			c, done, err := s.reserve(ctx, key, tenant, reg, meta)
			if done {
				return c, err
			}
			// A concurrent request reserved this xaccount first: wait for it.
		}
		if time.Now().Add(wait).After(giveUp) {
			return nil, ErrInProgress
		}
		select {
		case <-ctx.Done():
			return nil, unavailable("wait for admission", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// How long Create waits for another request's admission of the same
// registration, and after how long an unfinished admission counts as
// abandoned (its request died) and is released.
const (
	admissionWait  = 10 * time.Second
	admissionStale = 30 * time.Second
)

// reserve writes the create-only reservation of a new registration and
// admits it. done is false when another request reserved it first.
func (s *Customers) reserve(ctx context.Context, key, tenant string, reg Registration, meta Meta) (c *Customer, done bool, err error) {
	name := reg.DomainName
	if name == "" {
		name = RandomDomainName()
	}
	cur := Customer{
		Tenant: tenant, XAccountType: reg.XAccountType, XAccountID: reg.XAccountID, State: StatePending, Admitting: true,
		DomainName: name, AssociationType: reg.AssociationType, Phone: reg.Phone, CloseMarketMS: reg.CloseMarketMS,
		IndirectPartnerID: reg.IndirectPartnerID, IdempotencyKey: newID(), KeyID: meta.KeyID,
		RequestID: meta.RequestID, CreatedAt: s.o.Now().UTC(),
	}
	obj, err := objstore.PutJSON(ctx, s.o.Store, key, cur, objstore.PutOptions{IfNoneMatch: true})
	if errors.Is(err, objstore.ErrPreconditionFailed) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, unavailable("reserve customer", err)
	}
	if err := s.o.Step("reserved"); err != nil {
		return nil, true, unavailable("after reserve", err)
	}
	refuse := func(cause error) (*Customer, bool, error) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), repairCallTimeout)
		defer cancel()
		if err := s.o.Store.Delete(dctx, key); err != nil {
			s.o.Logger.Warn("release refused reservation failed; it is released when stale", "key", key, "err", err)
		}
		return nil, true, cause
	}
	if meta.Admit != nil {
		if err := meta.Admit(ctx); err != nil {
			return refuse(err)
		}
	}
	if reg.Phone != "" {
		if err := s.o.Codes.Check(ctx, tenant, reg.Phone, SceneRegistration, reg.VerificationCode); err != nil {
			return refuse(err)
		}
	}
	cur.Admitting = false
	obj, err = objstore.PutJSON(ctx, s.o.Store, key, cur, objstore.PutOptions{IfMatch: obj.ETag})
	if err != nil {
		return nil, true, unavailable("admit customer", err)
	}
	if err := s.o.Step("admitted"); err != nil {
		return nil, true, unavailable("after admit", err)
	}
	c, err = s.complete(ctx, key, &cur, obj.ETag, reg)
	return c, true, err
}

// Find returns the customer registered for an xaccount, or nil when there
// is none. Errors: ErrUnavailable when the store fails.
func (s *Customers) Find(ctx context.Context, tenant, xaccountType, xaccountID string) (*Customer, error) {
	c, _, err := objstore.GetJSON[Customer](ctx, s.o.Store, CustomerKey(tenant, xaccountType, xaccountID))
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, unavailable("read customer", err)
	}
	return &c, nil
}

// complete takes a reserved customer through the remaining steps. Each
// step is idempotent, so a resumed registration repeats none of them twice.
func (s *Customers) complete(ctx context.Context, key string, cur *Customer, etag string, reg Registration) (*Customer, error) {
	own := claim{Tenant: cur.Tenant, CustomerKey: key}
	if err := s.claim(ctx, nameKey(cur.DomainName), own); err != nil {
		return nil, s.abortOn(ctx, key, cur, err, ErrNameTaken)
	}
	if err := s.o.Step("name"); err != nil {
		return nil, unavailable("after name", err)
	}
	if cur.Phone != "" {
		if err := s.claim(ctx, tenantPhoneKey(cur.Tenant, cur.Phone), own); err != nil {
			return nil, s.abortOn(ctx, key, cur, err, ErrPhoneExists)
		}
		if err := s.claimPhoneSlot(ctx, cur.Phone, own); err != nil {
			return nil, s.abortOn(ctx, key, cur, err, ErrPhoneLimit)
		}
		if err := s.o.Step("phone"); err != nil {
			return nil, unavailable("after phone", err)
		}
	}
	acct, err := s.o.Provisioner.CreateAccount(ctx, ProvisionRequest{
		IdempotencyKey: cur.IdempotencyKey, Tenant: cur.Tenant, DomainName: cur.DomainName, Password: reg.Password,
		Phone: cur.Phone, CloseMarketMS: cur.CloseMarketMS, AssociationType: cur.AssociationType,
	})
	switch {
	case errors.Is(err, ErrNameTaken) || errors.Is(err, ErrRejected):
		return nil, s.abort(ctx, key, cur, err)
	case err != nil:
		return nil, unavailable("provision", err) // stays reserved: a retry resumes with the same key
	}
	if err := s.o.Step("provisioned"); err != nil {
		return nil, unavailable("after provision", err)
	}
	// The durable to-do of the index write, before the customer is active:
	// if the index write below fails (or this process dies), the repairer
	// indexes the customer.
	if err := s.markForIndex(ctx, cur); err != nil {
		return nil, unavailable("mark for index", err)
	}
	cur.DomainID, cur.State, cur.AssociatedOn = acct.DomainID, StateActive, s.o.Now().UTC().Truncate(time.Second)
	if _, err := objstore.PutJSON(ctx, s.o.Store, key, cur, objstore.PutOptions{IfMatch: etag}); err != nil {
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			// A concurrent retry finished first; its record is the answer.
			done, _, gerr := objstore.GetJSON[Customer](ctx, s.o.Store, key)
			if gerr == nil && done.State == StateActive {
				s.index(ctx, &done, true)
				return &done, nil
			}
		}
		return nil, unavailable("activate customer", err)
	}
	s.index(ctx, cur, true)
	return cur, nil
}

// claim writes a create-only claim, succeeding also when the claim is
// already ours (a resumed registration). Someone else's claim yields
// ErrPreconditionFailed.
func (s *Customers) claim(ctx context.Context, key string, own claim) error {
	_, err := objstore.PutJSON(ctx, s.o.Store, key, own, objstore.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, objstore.ErrPreconditionFailed) {
		return err
	}
	existing, _, gerr := objstore.GetJSON[claim](ctx, s.o.Store, key)
	if gerr != nil {
		return gerr
	}
	if existing == own {
		return nil
	}
	return err
}

func (s *Customers) claimPhoneSlot(ctx context.Context, phone string, own claim) error {
	for i := 0; i < s.o.PhoneLimit; i++ {
		err := s.claim(ctx, phoneSlotKey(phone, i), own)
		if !errors.Is(err, objstore.ErrPreconditionFailed) {
			return err
		}
	}
	return objstore.ErrPreconditionFailed
}

// abortOn rolls back when err is a lost claim (returning domainErr), and
// otherwise reports the store failure, leaving the reservation to resume.
func (s *Customers) abortOn(ctx context.Context, key string, cur *Customer, err, domainErr error) error {
	if errors.Is(err, objstore.ErrPreconditionFailed) {
		return s.abort(ctx, key, cur, domainErr)
	}
	return unavailable("claim", err)
}

// abort releases every claim the reservation holds, then the reservation,
// and returns cause. If the rollback itself fails, the reservation stays
// and the next retry resumes or aborts it again.
func (s *Customers) abort(ctx context.Context, key string, cur *Customer, cause error) error {
	own := claim{Tenant: cur.Tenant, CustomerKey: key}
	keys := []string{nameKey(cur.DomainName)}
	if cur.Phone != "" {
		keys = append(keys, tenantPhoneKey(cur.Tenant, cur.Phone))
		for i := 0; i < s.o.PhoneLimit; i++ {
			keys = append(keys, phoneSlotKey(cur.Phone, i))
		}
	}
	for _, k := range keys {
		c, _, err := objstore.GetJSON[claim](ctx, s.o.Store, k)
		if err == nil && c == own {
			if err := s.o.Store.Delete(ctx, k); err != nil {
				s.o.Logger.Warn("rollback: release claim failed", "key", k, "err", err)
				return cause
			}
		}
	}
	if err := s.o.Store.Delete(ctx, key); err != nil {
		s.o.Logger.Warn("rollback: release reservation failed", "key", key, "err", err)
	}
	return cause
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
