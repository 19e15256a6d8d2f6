package tenants

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// Registration in the object store. The durable steps of a new
// registration and their object-store round trips (no phone; the phone
// claims run beside the name's):
//
//	1. reserve   PUT customer, create-only, admitting    (no read first)
//	2. admit     Meta.Admit, verification code           (Redis)
//	3. admitted  PUT customer, CAS  ‖  PUT name claim, create-only
//	4. provision Provisioner.CreateAccount                (idempotency key)
//	5. index     Index.Put of the customer as activated   (Redis)
//	6. activate  PUT customer, CAS
//
// Three sequential object-store writes and no read, list or delete; a
// retry reads the record and resumes. The claims are written beside the
// admission's write (step 3) rather than after it, so a request that dies
// there can leave claims under a reservation still marked admitting: the
// release of a stale admission therefore releases the reservation's own
// claims too. The index is written before the activation, so an answered
// customer is always findable; when that write fails, the durable to-do of
// indexrepair.go is written instead, still before the activation.

// claim records which customer owns a unique value (name, phone slot).
type claim struct {
	Tenant      string `json:"tenant"`
	CustomerKey string `json:"customer_key"`
}

// Create registers a customer, or returns the one already registered for
// the xaccount (create is idempotent by tenant, xaccount_type and
// xaccount_id). Every step is durable before the one that depends on it
// starts and each unique value is claimed with a create-only write, so
// concurrent requests cannot both win and a failure or crash at any point
// leaves a reservation that the next retry completes: never an orphan,
// never a duplicate.
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
	// A new xaccount is the common case: reserve it at once and read the
	// record only when the reservation finds one.
	if c, done, err := s.reserve(ctx, key, tenant, reg, meta); done {
		return c, err
	}
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
				return s.complete(ctx, key, &cur, obj.ETag, reg, nil)
			case s.o.Now().Sub(cur.CreatedAt) > admissionStale:
				// Its request died while admitting, or beside the admission's
				// write (it may hold claims then): release both.
				if err := s.release(ctx, key, &cur); err != nil {
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
	// The claims go beside the admission's write only well inside the
	// stale window: a reservation released as stale (admissionStale after
	// CreatedAt) must not get claims from its late request afterwards.
	// The claims' own deadline keeps them inside that window too, whatever
	// the store's call deadline is.
	var pre *claimed
	var wg sync.WaitGroup
	if age := s.o.Now().Sub(cur.CreatedAt); age < admissionStale/4 {
		pre = &claimed{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, admissionStale/2-age)
			defer cancel()
			pre.err, pre.domain = s.claimAll(cctx, key, &cur)
		}()
	}
	obj, err = objstore.PutJSON(ctx, s.o.Store, key, cur, objstore.PutOptions{IfMatch: obj.ETag})
	wg.Wait()
	if err != nil {
		// Claims written beside it are released with the reservation once
		// stale, or kept by the retry that resumes it.
		return nil, true, unavailable("admit customer", err)
	}
	if err := s.o.Step("admitted"); err != nil {
		return nil, true, unavailable("after admit", err)
	}
	c, err = s.complete(ctx, key, &cur, obj.ETag, reg, pre)
	return c, true, err
}

// claimed is the outcome of claimAll run ahead of complete.
type claimed struct {
	err, domain error
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

// complete takes an admitted customer through the remaining steps. Each
// step is idempotent, so a resumed registration repeats none of them
// twice. pre, when not nil, is the outcome of the claims already made
// beside the admission's write.
func (s *Customers) complete(ctx context.Context, key string, cur *Customer, etag string, reg Registration, pre *claimed) (*Customer, error) {
	if pre == nil {
		pre = &claimed{}
		pre.err, pre.domain = s.claimAll(ctx, key, cur)
	}
	if pre.err != nil {
		return nil, s.abortOn(ctx, key, cur, pre.err, pre.domain)
	}
	if err := s.o.Step("name"); err != nil {
		return nil, unavailable("after name", err)
	}
	if cur.Phone != "" {
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
	next := *cur
	next.DomainID, next.State, next.AssociatedOn = acct.DomainID, StateActive, s.o.Now().UTC().Truncate(time.Second)
	// The index first: once the record is active (and the partner told),
	// the customer is findable. If Redis refuses, the durable to-do takes
	// its place, still before the activation.
	marked, err := s.indexBeforeActivation(ctx, &next)
	if err != nil {
		return nil, err
	}
	if err := s.o.Step("indexed"); err != nil {
		return nil, unavailable("after index", err)
	}
	if _, err := objstore.PutJSON(ctx, s.o.Store, key, next, objstore.PutOptions{IfMatch: etag}); err != nil {
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			// A concurrent retry finished first; its record is the answer.
			done, _, gerr := objstore.GetJSON[Customer](ctx, s.o.Store, key)
			if gerr == nil && done.State == StateActive {
				s.index(ctx, &done, marked)
				return &done, nil
			}
		}
		return nil, unavailable("activate customer", err)
	}
	*cur = next
	if marked {
		s.kickRepair()
	}
	return cur, nil
}

// claimAll claims the customer's account name and, with a phone, the
// tenant's phone and a phone slot, the name beside the phone. err is the
// first failure (the name's first); domain the domain error it stands for
// when err is a lost claim (ErrPreconditionFailed).
func (s *Customers) claimAll(ctx context.Context, key string, cur *Customer) (err, domain error) {
	own := claim{Tenant: cur.Tenant, CustomerKey: key}
	if cur.Phone == "" {
		return s.claim(ctx, nameKey(cur.DomainName), own), ErrNameTaken
	}
	var phoneErr, phoneDomain error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if phoneErr = s.claim(ctx, tenantPhoneKey(cur.Tenant, cur.Phone), own); phoneErr != nil {
			phoneDomain = ErrPhoneExists
			return
		}
		phoneErr, phoneDomain = s.claimPhoneSlot(ctx, cur.Phone, own), ErrPhoneLimit
	}()
	nameErr := s.claim(ctx, nameKey(cur.DomainName), own)
	wg.Wait()
	if nameErr != nil {
		return nameErr, ErrNameTaken
	}
	if phoneErr != nil {
		return phoneErr, phoneDomain
	}
	return nil, nil
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
	if err := s.release(ctx, key, cur); err != nil {
		s.o.Logger.Warn("rollback failed; the next retry resumes or rolls back again", "key", key, "err", err)
	}
	return cause
}

// release deletes the claims of cur that are its own, then its
// reservation. A claim it cannot release stops it before the reservation
// (which keeps naming the claims to release). Errors are the store's.
func (s *Customers) release(ctx context.Context, key string, cur *Customer) error {
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
		switch {
		case errors.Is(err, objstore.ErrNotFound):
		case err != nil:
			return err
		case c == own:
			if err := s.o.Store.Delete(ctx, k); err != nil {
				return err
			}
		}
	}
	return s.o.Store.Delete(ctx, key)
}
