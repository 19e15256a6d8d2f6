package adminapi

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Delegations is what the admin API needs of delegated operations
// (delegation.Service): the partner's side of grants and the agreement.
type Delegations interface {
	List(ctx context.Context, tenant string, q delegation.Query) (delegation.GrantPage, error)
	Get(ctx context.Context, tenant, id string) (delegation.Grant, error)
	Request(ctx context.Context, tenant string, in delegation.RequestInput, staff authz.Subject) (delegation.Grant, error)
	Withdraw(ctx context.Context, tenant, id string, staff authz.Subject) (delegation.Grant, error)
	Revoke(ctx context.Context, tenant, id string, by authz.Subject, why string) (delegation.Grant, error)
	Accepted(ctx context.Context, tenant string) (delegation.Acceptance, bool, error)
	AcceptAgreement(ctx context.Context, tenant, version string, staff authz.Subject) (delegation.Acceptance, error)
}

// adminDelegations serves .../delegations and .../delegation-agreement. A
// customer manager (who passes Casbin for these routes) acts only on the
// customers assigned to them (authz.CanSeeCustomer): another customer's
// grant is 404 not_found, like a missing one.
type adminDelegations struct {
	d Delegations
	c Customers
}

func mountDelegations(t fiber.Router, o Options) {
	if o.Delegations == nil || o.Customers == nil {
		return
	}
	a := &adminDelegations{d: o.Delegations, c: o.Customers}
	t.Get("/delegation-agreement", a.agreement)
	t.Post("/delegation-agreement", a.accept)
	t.Get("/delegations", a.list)
	t.Post("/delegations", a.request)
	t.Get("/delegations/:grant", a.get)
	t.Post("/delegations/:grant/withdraw", a.withdraw)
	t.Post("/delegations/:grant/revoke", a.revoke)
}

// grantView is a grant as the admin API shows it: State is the
// effective state now (expiry is lazy), times are RFC 3339 UTC ("" when
// not set), the duration in whole hours.
type grantView struct {
	ID               string   `json:"id"`
	CustomerID       string   `json:"customer_id"`
	CustomerName     string   `json:"customer_name"`
	State            string   `json:"state"`
	Scopes           []string `json:"scopes"`
	DurationHours    int      `json:"duration_hours"`
	Reason           string   `json:"reason"`
	RequestedBy      string   `json:"requested_by"`
	RequestedAt      string   `json:"requested_at"`
	RequestExpiresAt string   `json:"request_expires_at"`
	AgreementVersion string   `json:"agreement_version"`
	Replaces         string   `json:"replaces,omitempty"`
	DecidedBy        string   `json:"decided_by,omitempty"`
	DecidedAt        string   `json:"decided_at,omitempty"`
	DecisionNote     string   `json:"decision_note,omitempty"`
	ApprovedAt       string   `json:"approved_at,omitempty"`
	EndsAt           string   `json:"ends_at,omitempty"`
	RevokedBy        string   `json:"revoked_by,omitempty"`
	RevokedAt        string   `json:"revoked_at,omitempty"`
	RevokeReason     string   `json:"revoke_reason,omitempty"`
	ReplacedBy       string   `json:"replaced_by,omitempty"`
}

// tograntView is g as the admin API shows it at now.
func tograntView(g delegation.Grant, now time.Time) grantView {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	who := func(s *authz.Subject) string {
		if s == nil {
			return ""
		}
		return s.User
	}
	v := grantView{ID: g.ID, CustomerID: g.Customer, CustomerName: g.CustomerName, State: string(g.StateAt(now)),
		Scopes: make([]string, 0, len(g.Scopes)), DurationHours: int(g.Duration / time.Hour), Reason: g.Reason,
		RequestedBy: g.RequestedBy.User, RequestedAt: ts(g.RequestedAt), RequestExpiresAt: ts(g.RequestExpiresAt),
		AgreementVersion: g.AgreementVersion, Replaces: g.Replaces, DecidedBy: who(g.DecidedBy), DecidedAt: ts(g.DecidedAt),
		DecisionNote: g.DecisionNote, ApprovedAt: ts(g.ApprovedAt), EndsAt: ts(g.EndsAt), RevokedBy: who(g.RevokedBy),
		RevokedAt: ts(g.RevokedAt), RevokeReason: g.RevokeReason, ReplacedBy: g.ReplacedBy}
	for _, s := range g.Scopes {
		v.Scopes = append(v.Scopes, string(s))
	}
	return v
}

// visible reports whether the principal may act on customer of the
// path's tenant: a customer manager only on those they manage. A customer
// the tenant does not have is not visible. Errors: the registry's
// (customerError).
func (a *adminDelegations) visible(c *fiber.Ctx, customer string) (bool, error) {
	p, _ := web.PrincipalOf(c)
	t := web.Param(c, "tenant")
	if authz.CanSeeCustomer(p, t, nil) {
		return true, nil
	}
	cust, err := a.c.ByDomainID(c.UserContext(), t, customer)
	if err != nil && !errors.Is(err, tenants.ErrNotFound) {
		return false, customerError(err)
	}
	return cust != nil && authz.CanSeeCustomer(p, t, cust.Managers), nil
}

// grant loads the path's grant, enforcing manager scoping (404 not_found
// for a grant of a customer the principal may not see).
func (a *adminDelegations) grant(c *fiber.Ctx) (delegation.Grant, error) {
	g, err := a.d.Get(c.UserContext(), web.Param(c, "tenant"), web.Param(c, "grant"))
	if err != nil {
		return g, delegationError(err)
	}
	ok, err := a.visible(c, g.Customer)
	if err != nil {
		return g, err
	}
	if !ok {
		return g, errNotFound.withf("No such grant.")
	}
	return g, nil
}

// list answers a page of the tenant's grants, newest first. Filters:
// customer (a customer id), state (an effective state: requested,
// approved, rejected, withdrawn, request_expired, revoked, expired);
// paging: cursor (next_cursor of the previous page) and limit (1-100,
// default 20). A customer manager sees only grants of their customers: a
// page may then hold fewer than limit grants (follow next_cursor).
func (a *adminDelegations) list(c *fiber.Ctx) error {
	q := delegation.Query{Customer: strings.TrimSpace(c.Query("customer")), State: delegation.State(c.Query("state")),
		Cursor: c.Query("cursor")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > delegation.MaxLimit {
			return errInvalidRequest.withf("limit must be an integer from 1 to %d (default %d).", delegation.MaxLimit, delegation.DefaultLimit)
		}
		q.Limit = n
	}
	if q.State != "" && !knownState(q.State) {
		return errInvalidRequest.withf("state must be one of %s.", strings.Join(stateNames(), ", "))
	}
	if q.Customer != "" {
		ok, err := a.visible(c, q.Customer)
		if err != nil {
			return err
		}
		if !ok {
			return errNotFound.withf("No such customer.")
		}
	}
	page, err := a.d.List(c.UserContext(), web.Param(c, "tenant"), q)
	if err != nil {
		return delegationError(err)
	}
	grants, err := visibleGrants(c.UserContext(), a.c, c, page.Grants)
	if err != nil {
		return customerError(err)
	}
	now := time.Now()
	out := make([]grantView, 0, len(grants))
	for _, g := range grants {
		out = append(out, tograntView(g, now))
	}
	return c.JSON(fiber.Map{"grants": out, "next_cursor": page.NextCursor})
}

// visibleGrants keeps the grants of customers the request's principal may
// see (authz.CanSeeCustomer: everyone of the tenant for partner admins and
// operators, a customer manager's own customers), one registry read per
// distinct customer when the principal is a customer manager. Errors: the
// registry's.
func visibleGrants(ctx context.Context, l Customers, c *fiber.Ctx, gs []delegation.Grant) ([]delegation.Grant, error) {
	p, _ := web.PrincipalOf(c)
	t := web.Param(c, "tenant")
	if authz.CanSeeCustomer(p, t, nil) {
		return gs, nil
	}
	seen := map[string]bool{}
	out := gs[:0:0]
	for _, g := range gs {
		ok, known := seen[g.Customer]
		if !known {
			cust, err := l.ByDomainID(ctx, t, g.Customer)
			if err != nil && !errors.Is(err, tenants.ErrNotFound) {
				return nil, err
			}
			ok = cust != nil && authz.CanSeeCustomer(p, t, cust.Managers)
			seen[g.Customer] = ok
		}
		if ok {
			out = append(out, g)
		}
	}
	return out, nil
}

func (a *adminDelegations) get(c *fiber.Ctx) error {
	g, err := a.grant(c)
	if err != nil {
		return err
	}
	return c.JSON(tograntView(g, time.Now()))
}

// request asks a customer for a grant. Body (application/json):
// {"customer_id", "scopes": [...], "duration_hours": 1-8760, "reason",
// "replaces": the active grant's id when the customer has one}. 201 with
// the grant. Errors: 400 invalid_request (fields), 404 not_found (no such
// customer, or not the manager's), 422 referral_customer, 409
// agreement_required, delegation_pending, delegation_active.
func (a *adminDelegations) request(c *fiber.Ctx) error {
	var body struct {
		CustomerID    string   `json:"customer_id"`
		Scopes        []string `json:"scopes"`
		DurationHours int      `json:"duration_hours"`
		Reason        string   `json:"reason"`
		Replaces      string   `json:"replaces"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.CustomerID == "" {
		return errInvalidRequest.withf("customer_id is required.")
	}
	if body.DurationHours < 1 || body.DurationHours > int(delegation.MaxDuration/time.Hour) {
		return errInvalidRequest.withf("duration_hours must be from 1 to %d (1 hour to 1 year). / 授权时长须在1小时到1年之间。", int(delegation.MaxDuration/time.Hour))
	}
	ok, err := a.visible(c, body.CustomerID)
	if err != nil {
		return err
	}
	if !ok {
		return errNotFound.withf("No such customer.")
	}
	in := delegation.RequestInput{Customer: body.CustomerID, Duration: time.Duration(body.DurationHours) * time.Hour,
		Reason: body.Reason, Replaces: body.Replaces}
	for _, s := range body.Scopes {
		in.Scopes = append(in.Scopes, delegation.Scope(s))
	}
	g, err := a.d.Request(c.UserContext(), web.Param(c, "tenant"), in, actor(c))
	if err != nil {
		return delegationError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(tograntView(g, time.Now()))
}

// withdraw withdraws a pending request (no body). 409 grant_state when it
// is no longer pending.
func (a *adminDelegations) withdraw(c *fiber.Ctx) error {
	g, err := a.grant(c)
	if err != nil {
		return err
	}
	if g, err = a.d.Withdraw(c.UserContext(), g.Tenant, g.ID, actor(c)); err != nil {
		return delegationError(err)
	}
	return c.JSON(tograntView(g, time.Now()))
}

// revoke ends an active grant now. Body optional: {"reason": "..."}
// (application/json, at most 500 characters). 409 grant_state when it is
// not active.
func (a *adminDelegations) revoke(c *fiber.Ctx) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if len(c.Body()) > 0 {
		if err := decodeJSONBody(c, &body); err != nil {
			return err
		}
	}
	g, err := a.grant(c)
	if err != nil {
		return err
	}
	if g, err = a.d.Revoke(c.UserContext(), g.Tenant, g.ID, actor(c), body.Reason); err != nil {
		return delegationError(err)
	}
	return c.JSON(tograntView(g, time.Now()))
}

// agreement answers the current delegated-operation agreement (version,
// zh and en text) and whether the tenant accepted it (by whom, when).
func (a *adminDelegations) agreement(c *fiber.Ctx) error {
	acc, found, err := a.d.Accepted(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return delegationError(err)
	}
	out := fiber.Map{"agreement": delegation.Agreement(), "accepted": found}
	if found {
		out["accepted_by"], out["accepted_at"] = acc.By.User, acc.At.UTC().Format(time.RFC3339)
	}
	return c.JSON(out)
}

// accept records the tenant's acceptance of the agreement. Body:
// {"version": the current version}; 409 agreement_version for another.
// Accepting again answers the first acceptance.
func (a *adminDelegations) accept(c *fiber.Ctx) error {
	var body struct {
		Version string `json:"version"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.Version == "" {
		return errInvalidRequest.withf("version is required (the agreement version you accept, %s).", delegation.AgreementVersion)
	}
	acc, err := a.d.AcceptAgreement(c.UserContext(), web.Param(c, "tenant"), body.Version, actor(c))
	if err != nil {
		return delegationError(err)
	}
	return c.JSON(fiber.Map{"version": acc.Version, "accepted": true, "accepted_by": acc.By.User,
		"accepted_at": acc.At.UTC().Format(time.RFC3339)})
}

var grantStates = []delegation.State{delegation.StateRequested, delegation.StateApproved, delegation.StateRejected,
	delegation.StateWithdrawn, delegation.StateRequestExpired, delegation.StateRevoked, delegation.StateExpired}

func knownState(s delegation.State) bool {
	for _, k := range grantStates {
		if k == s {
			return true
		}
	}
	return false
}

func stateNames() []string {
	out := make([]string, len(grantStates))
	for i, s := range grantStates {
		out[i] = string(s)
	}
	return out
}

// delegationError translates an error of delegated operations:
//
//   - ErrInvalidArgument, ErrBadScope, ErrBadDuration, ErrReasonRequired,
//     ErrBadCursor: 400 invalid_request with the service's message;
//   - ErrNotYourGrant: 403 forbidden;
//   - ErrNotFound, ErrUnknownCustomer: 404 not_found;
//   - ErrReferralCustomer: 422 referral_customer;
//   - ErrAgreementRequired: 409 agreement_required; ErrAgreementVersion:
//     409 agreement_version;
//   - ErrPendingExists: 409 delegation_pending; ErrActiveExists: 409
//     delegation_active; ErrState: 409 grant_state;
//   - anything else: 503 unavailable (the store or the audit failed; the
//     cause is logged).
func delegationError(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.ReplaceAll(err.Error(), "delegation: ", "")
	for _, m := range []struct {
		target error
		code   errorCode
	}{
		{delegation.ErrInvalidArgument, errInvalidRequest},
		{delegation.ErrBadScope, errInvalidRequest},
		{delegation.ErrBadDuration, errInvalidRequest},
		{delegation.ErrReasonRequired, errInvalidRequest},
		{delegation.ErrBadCursor, errInvalidRequest},
		{delegation.ErrNotYourGrant, errForbidden},
		{delegation.ErrNotFound, errNotFound},
		{delegation.ErrUnknownCustomer, errNotFound},
		{delegation.ErrReferralCustomer, errReferralCustomer},
		{delegation.ErrAgreementRequired, errAgreementRequired},
		{delegation.ErrAgreementVersion, errAgreementVersion},
		{delegation.ErrPendingExists, errDelegationPending},
		{delegation.ErrActiveExists, errDelegationActive},
		{delegation.ErrState, errGrantState},
	} {
		if errors.Is(err, m.target) {
			return m.code.wrap(err, msg)
		}
	}
	return errUnavailable.wrap(err, "")
}
