package delegation

import (
	"context"
	"fmt"
	"time"

	"github.com/livery/livery/authz"
)

// RequestInput is what partner staff ask a customer for.
type RequestInput struct {
	Customer string
	Scopes   []Scope
	Duration time.Duration
	Reason   string
	// Replaces must name the customer's active grant when it has one (the
	// approval then revokes it); it must be "" otherwise.
	Replaces string
}

// Request asks customer in.Customer of tenant for a grant. staff is the
// partner admin or customer manager asking (callers decide who may; the
// service checks staff.Tenant == tenant and that staff is not a customer
// role). The request waits for the customer's answer until RequestTTL
// has passed.
//
// Errors (nothing is stored): ErrInvalidArgument, ErrNotYourGrant,
// ErrBadScope, ErrBadDuration, ErrReasonRequired, ErrAgreementRequired
// (the tenant has not accepted AgreementVersion; the message names it),
// ErrUnknownCustomer, ErrReferralCustomer, ErrPendingExists (of
// concurrent requests for one customer exactly one wins),
// ErrActiveExists (an active grant and in.Replaces does not name it). A
// non-empty in.Replaces that does not name the active grant is
// ErrInvalidArgument. After the request is stored, the audit sink's error.
func (s *Service) Request(ctx context.Context, tenant string, in RequestInput, staff authz.Subject) (Grant, error) {
	if err := checkIDs(tenant, in.Customer); err != nil {
		return Grant{}, err
	}
	if in.Customer == "" {
		return Grant{}, fmt.Errorf("%w: customer id required", ErrInvalidArgument)
	}
	if err := checkStaff(tenant, staff, false); err != nil {
		return Grant{}, err
	}
	scopes, err := ValidateScopes(in.Scopes)
	if err != nil {
		return Grant{}, err
	}
	if in.Duration < MinDuration || in.Duration > MaxDuration {
		return Grant{}, fmt.Errorf("%w: %s", ErrBadDuration, in.Duration)
	}
	why, err := reason(in.Reason, true)
	if err != nil {
		return Grant{}, err
	}
	if _, ok, err := s.Accepted(ctx, tenant); err != nil {
		return Grant{}, err
	} else if !ok {
		return Grant{}, fmt.Errorf("%w: version %s / 版本 %s", ErrAgreementRequired, AgreementVersion, AgreementVersion)
	}
	info, err := s.resale(ctx, tenant, in.Customer)
	if err != nil {
		return Grant{}, err
	}
	ptrs, err := s.settle(ctx, tenant, in.Customer)
	if err != nil {
		return Grant{}, err
	}
	switch {
	case ptrs.pending != nil:
		return Grant{}, fmt.Errorf("%w: %s", ErrPendingExists, ptrs.pending.ID)
	case ptrs.active != nil && in.Replaces != ptrs.active.ID:
		if in.Replaces != "" {
			return Grant{}, fmt.Errorf("%w: replaces %q, but the active grant is %s", ErrInvalidArgument, in.Replaces, ptrs.active.ID)
		}
		return Grant{}, fmt.Errorf("%w: %s (ask to replace it)", ErrActiveExists, ptrs.active.ID)
	case ptrs.active == nil && in.Replaces != "":
		return Grant{}, fmt.Errorf("%w: replaces %q, but the customer has no active grant", ErrInvalidArgument, in.Replaces)
	}
	now := s.clock()
	g := Grant{ID: newGrantID(now), Tenant: tenant, Customer: in.Customer, CustomerName: info.Name, RequestedBy: staff,
		Reason: why, Scopes: scopes, Duration: in.Duration, Replaces: in.Replaces, RequestedAt: now,
		RequestExpiresAt: now.Add(s.ttl), AgreementVersion: AgreementVersion, State: StateRequested}
	// The customer index first, then the grant, then the pointer: a crash
	// leaves at worst an index entry or a grant that no pointer names,
	// which no listing shows.
	if _, err := s.putJSON(ctx, customerIndexKey(tenant, g.Customer, g.ID), struct{}{}, createOnly()); err != nil {
		return Grant{}, fmt.Errorf("delegation: store customer index: %w", err)
	}
	etag, err := s.putJSON(ctx, grantKey(tenant, g.ID), g, createOnly())
	if err != nil {
		return Grant{}, fmt.Errorf("delegation: store grant: %w", err)
	}
	g.ETag = etag
	_, err = s.putJSON(ctx, pendingKey(tenant, g.Customer), pointer{GrantID: g.ID, Since: now}, condition(ptrs.pendingETag))
	switch {
	case isPrecondition(err):
		// Lost the race: the grant is unreferenced; drop it. (On other
		// errors the pointer may have been written after all, so keep it.)
		dctx := context.WithoutCancel(ctx)
		for _, k := range []string{grantKey(tenant, g.ID), customerIndexKey(tenant, g.Customer, g.ID)} {
			if derr := s.store.Delete(dctx, k); derr != nil {
				s.log.Warn("delegation: removing an unreferenced request", "key", k, "err", derr)
			}
		}
		return Grant{}, ErrPendingExists
	case err != nil:
		return Grant{}, fmt.Errorf("delegation: set pending: %w", err)
	}
	s.changed(ctx, tenant, g.ID)
	if err := s.recordRequest(ctx, g); err != nil {
		return g, err
	}
	s.announce(ctx, Announcement{Kind: KindRequested, Audience: AudienceCustomer, Tenant: tenant, Customer: g.Customer,
		Grant: g, Actor: staff.User, At: now})
	return g, nil
}

// resale looks the customer up and requires a resale customer.
func (s *Service) resale(ctx context.Context, tenant, customer string) (CustomerInfo, error) {
	info, found, err := s.dir.Customer(ctx, tenant, customer)
	switch {
	case err != nil:
		return CustomerInfo{}, fmt.Errorf("delegation: look up customer: %w", err)
	case !found:
		return CustomerInfo{}, fmt.Errorf("%w: %s", ErrUnknownCustomer, customer)
	case info.AssociationType == AssociationReferral:
		return CustomerInfo{}, fmt.Errorf("%w: %s is a referral customer / 顾问销售客户", ErrReferralCustomer, customer)
	case info.AssociationType != AssociationResale:
		return CustomerInfo{}, fmt.Errorf("%w: %s has association type %q, not resale", ErrReferralCustomer, customer, info.AssociationType)
	}
	return info, nil
}

// Withdraw withdraws pending request id (the partner changed its mind).
// staff must be staff of tenant. Errors: ErrNotFound, ErrState (the
// request was answered, expired or withdrawn; of concurrent decisions
// exactly one wins), ErrNotYourGrant, ErrInvalidArgument, a store or
// audit error.
func (s *Service) Withdraw(ctx context.Context, tenant, id string, staff authz.Subject) (Grant, error) {
	if err := checkIDs(tenant, ""); err != nil {
		return Grant{}, err
	}
	if err := checkStaff(tenant, staff, false); err != nil {
		return Grant{}, err
	}
	return s.decide(ctx, tenant, id, staff, StateWithdrawn, "", nil)
}
