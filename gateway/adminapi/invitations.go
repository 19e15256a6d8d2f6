package adminapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/qrpng"
	"github.com/livery/livery/tenants"
)

// Associations is what the admin API needs of the customer association
// lifecycle (association.Service has it all): the partner's side of
// invitations, association changes and manager periods.
type Associations interface {
	Create(ctx context.Context, tenant string, in association.CreateInput, actor authz.Subject) (association.Invitation, string, error)
	List(ctx context.Context, tenant string) ([]association.Invitation, error)
	Get(ctx context.Context, tenant, id string) (association.Invitation, error)
	Resend(ctx context.Context, tenant, id string, actor authz.Subject) (association.Invitation, string, error)
	Revoke(ctx context.Context, tenant, id string, actor authz.Subject) (association.Invitation, error)
	Binding(ctx context.Context, customer string) (association.Binding, bool, error)
	RequestChange(ctx context.Context, tenant, customer, kind, to, why string, actor authz.Subject) (association.Change, error)
	History(ctx context.Context, tenant, customer string) ([]association.Period, error)
	CustomersOn(ctx context.Context, tenant, manager string, d time.Time) ([]string, error)
}

// InvitationPath is the console path of an invitation link (the customer's
// side, door mypartners); the token follows it.
const InvitationPath = web.InvitationPath

// adminAssociations serves .../invitations, .../customers/:customer/association
// and .../customers/:customer/managers/history.
type adminAssociations struct {
	a         Associations
	customers Customers // nil: manager scoping cannot be applied (managers get 404)
	link      func(tenant, token string) string
}

func mountAssociations(t fiber.Router, o Options) {
	if o.Associations == nil {
		return
	}
	a := &adminAssociations{a: o.Associations, customers: o.Customers, link: o.InvitationLink}
	if a.link == nil {
		a.link = func(_, token string) string { return InvitationPath + token }
	}
	t.Get("/invitations", a.list)
	t.Post("/invitations", a.create)
	t.Post("/invitations/qr", a.qr)
	t.Get("/invitations/:invitation", a.get)
	t.Post("/invitations/:invitation/resend", a.resend)
	t.Post("/invitations/:invitation/revoke", a.revoke)
	t.Get("/customers/:customer/association", a.binding)
	t.Post("/customers/:customer/association/changes", a.change)
	t.Get("/customers/:customer/managers/history", a.history)
	t.Get("/managers/:manager/customers", a.managedOn)
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// invitationView is an invitation as the admin API shows it: State is
// the effective state now (expiry is lazy); Failure the last failed
// attempt to accept, with its reason in zh and en.
type invitationView struct {
	ID              string               `json:"id"`
	Kind            string               `json:"kind"`
	AssociationType string               `json:"association_type"`
	ForCustomer     string               `json:"for_customer,omitempty"`
	State           string               `json:"state"`
	CreatedBy       string               `json:"created_by"`
	CreatedAt       string               `json:"created_at"`
	SentAt          string               `json:"sent_at"`
	ExpiresAt       string               `json:"expires_at,omitempty"`
	Sends           int                  `json:"sends"`
	Customer        string               `json:"customer,omitempty"`
	DecidedAt       string               `json:"decided_at,omitempty"`
	Failure         *association.Failure `json:"failure,omitempty"`
}

func toInvitationView(i association.Invitation, now time.Time) invitationView {
	return invitationView{ID: i.ID, Kind: i.Kind, AssociationType: i.AssociationType, ForCustomer: i.ForCustomer,
		State: i.StateAt(now), CreatedBy: i.CreatedBy.User, CreatedAt: ts(i.CreatedAt), SentAt: ts(i.SentAt),
		ExpiresAt: ts(i.ExpiresAt), Sends: i.Sends, Customer: i.Customer, DecidedAt: ts(i.DecidedAt), Failure: i.Failure}
}

// withToken is an invitation with its link, answered only by create and
// resend: the token is shown once and never stored.
func (a *adminAssociations) withToken(c *fiber.Ctx, status int, i association.Invitation, token string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(fiber.Map{"invitation": toInvitationView(i, time.Now()), "token": token,
		"link": a.link(web.Param(c, "tenant"), token)})
}

// list answers the tenant's invitations, newest first.
func (a *adminAssociations) list(c *fiber.Ctx) error {
	is, err := a.a.List(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return associationError(err)
	}
	now := time.Now()
	out := make([]invitationView, 0, len(is))
	for _, i := range is {
		out = append(out, toInvitationView(i, now))
	}
	return c.JSON(fiber.Map{"invitations": out})
}

type createInvitationRequest struct {
	Kind            string `json:"kind"`
	AssociationType string `json:"association_type"`
	ForCustomer     string `json:"for_customer"`
}

// create makes an invitation: 201 with the invitation, its token and link.
func (a *adminAssociations) create(c *fiber.Ctx) error {
	var req createInvitationRequest
	if err := decodeJSONBody(c, &req); err != nil {
		return err
	}
	i, tok, err := a.a.Create(c.UserContext(), web.Param(c, "tenant"), association.CreateInput{Kind: req.Kind,
		AssociationType: req.AssociationType, ForCustomer: strings.TrimSpace(req.ForCustomer)}, principal(c))
	if err != nil {
		return associationError(err)
	}
	return a.withToken(c, http.StatusCreated, i, tok)
}

func (a *adminAssociations) get(c *fiber.Ctx) error {
	i, err := a.a.Get(c.UserContext(), web.Param(c, "tenant"), web.Param(c, "invitation"))
	if err != nil {
		return associationError(err)
	}
	return c.JSON(toInvitationView(i, time.Now()))
}

// resend gives an online invitation a new token and InvitationTTL more.
func (a *adminAssociations) resend(c *fiber.Ctx) error {
	i, tok, err := a.a.Resend(c.UserContext(), web.Param(c, "tenant"), web.Param(c, "invitation"), principal(c))
	if err != nil {
		return associationError(err)
	}
	return a.withToken(c, http.StatusOK, i, tok)
}

func (a *adminAssociations) revoke(c *fiber.Ctx) error {
	i, err := a.a.Revoke(c.UserContext(), web.Param(c, "tenant"), web.Param(c, "invitation"), principal(c))
	if err != nil {
		return associationError(err)
	}
	return c.JSON(toInvitationView(i, time.Now()))
}

// qr answers the PNG QR code of the link of {"token": ...} (the token is
// in the body, never in a URL). It encodes the tenant's link of any token
// of the right form: it reads nothing.
func (a *adminAssociations) qr(c *fiber.Ctx) error {
	var req struct {
		Token string `json:"token"`
	}
	if err := decodeJSONBody(c, &req); err != nil {
		return err
	}
	if !validToken(req.Token) {
		return errInvalidRequest.withf("token must be an invitation token (43 characters of base64url).")
	}
	png, err := qrpng.Encode(a.link(web.Param(c, "tenant"), req.Token))
	if err != nil {
		return errInvalidRequest.wrap(err, "")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(png)
}

// validToken: the form of ids.Token (32 random bytes, unpadded base64url).
func validToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// bindingView is a customer's association with the path's tenant.
type bindingView struct {
	Customer          string               `json:"customer_id"`
	State             string               `json:"state"`
	AssociationType   string               `json:"association_type"`
	Since             string               `json:"associated_on"`
	Invitation        string               `json:"invitation,omitempty"`
	LastChangeAt      string               `json:"last_change_at,omitempty"`
	NextChangeAllowed string               `json:"next_change_allowed,omitempty"`
	Pending           *association.Change  `json:"pending,omitempty"`
	Changes           []association.Change `json:"changes"`
}

// binding answers the customer's association by invitation with this
// tenant; 404 not_found when it has none (a customer registered through
// the partner API has no such record), or it is another tenant's.
func (a *adminAssociations) binding(c *fiber.Ctx) error {
	b, ok, err := a.a.Binding(c.UserContext(), web.Param(c, "customer"))
	if err != nil {
		return associationError(err)
	}
	if !ok || b.Tenant != web.Param(c, "tenant") {
		return errNotFound.withf("The customer has no association by invitation with this partner.")
	}
	v := bindingView{Customer: b.Customer, State: b.State, AssociationType: b.Type, Since: ts(b.Since), Invitation: b.Invitation,
		LastChangeAt: ts(b.LastChangeAt), NextChangeAllowed: ts(b.NextChangeAllowed()), Pending: b.Pending, Changes: b.Changes}
	if v.Changes == nil {
		v.Changes = []association.Change{}
	}
	return c.JSON(v)
}

type changeRequest struct {
	Kind   string `json:"kind"` // "type" or "unbind"
	To     string `json:"to"`   // the new association type (kind "type")
	Reason string `json:"reason"`
}

// change requests a type change or an unbinding (201 with the change);
// it takes effect when the customer confirms it in the console.
func (a *adminAssociations) change(c *fiber.Ctx) error {
	var req changeRequest
	if err := decodeJSONBody(c, &req); err != nil {
		return err
	}
	ch, err := a.a.RequestChange(c.UserContext(), web.Param(c, "tenant"), web.Param(c, "customer"), req.Kind, req.To,
		req.Reason, principal(c))
	if err != nil {
		return associationError(err)
	}
	return c.Status(http.StatusCreated).JSON(ch)
}

type periodView struct {
	Manager string `json:"manager"`
	From    string `json:"from"`
	To      string `json:"to,omitempty"`
}

// history answers the customer's manager periods, oldest first. A
// customer manager sees those of the customers it manages now (others:
// 404, like a missing customer); partner admins those of every customer,
// unbound ones included.
func (a *adminAssociations) history(c *fiber.Ctx) error {
	p, _ := web.PrincipalOf(c)
	tenant := web.Param(c, "tenant")
	if !authz.CanSeeCustomer(p, tenant, nil) {
		var cust *tenants.Customer
		var err error
		if a.customers != nil {
			if cust, err = a.customers.ByDomainID(c.UserContext(), tenant, web.Param(c, "customer")); err != nil {
				return customerError(err)
			}
		}
		if cust == nil || !authz.CanSeeCustomer(p, tenant, cust.Managers) {
			return errNotFound.withf("No such customer.")
		}
	}
	ps, err := a.a.History(c.UserContext(), web.Param(c, "tenant"), web.Param(c, "customer"))
	if err != nil {
		return associationError(err)
	}
	out := make([]periodView, 0, len(ps))
	for _, p := range ps {
		out = append(out, periodView{Manager: p.Manager, From: ts(p.From), To: ts(p.To)})
	}
	return c.JSON(fiber.Map{"periods": out})
}

// managedOn answers the customers the manager managed at any time on the
// day ?on= (YYYY-MM-DD in UTC, or an RFC 3339 time: its day in its
// offset; default today in UTC), from the manager periods: customers it
// no longer manages are included. A customer manager may ask about itself
// only (403). Errors: 400 for a malformed date.
func (a *adminAssociations) managedOn(c *fiber.Ctx) error {
	p, _ := web.PrincipalOf(c)
	tenant, manager := web.Param(c, "tenant"), web.Param(c, "manager")
	if !authz.CanSeeCustomer(p, tenant, nil) && manager != p.User {
		return errForbidden.withf("A customer manager may only list its own customers. / 客户经理只能查询自己的客户。")
	}
	day := time.Now().UTC()
	if v := c.Query("on"); v != "" {
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			if d, err = time.Parse(time.RFC3339, v); err != nil {
				return errInvalidRequest.withf("on must be a date (2006-01-02) or an RFC 3339 time")
			}
		}
		day = d
	}
	ids, err := a.a.CustomersOn(c.UserContext(), tenant, manager, day)
	if err != nil {
		return associationError(err)
	}
	if ids == nil {
		ids = []string{}
	}
	return c.JSON(fiber.Map{"manager": manager, "on": day.Format(time.DateOnly), "customers": ids})
}

// associationError maps the association service's errors; the message
// is the reason's, in English and Chinese: ErrInvalid 400
// invalid_request, ErrNotAllowed 403 forbidden, ErrLinkNotFound and
// ErrNotAssociated 404 not_found, ErrChangePending 409 change_pending,
// ErrSameType 409 same_type, *TooSoonError 409 too_soon (problems:
// next_change_allowed), ErrBusy and anything else 503 unavailable, any
// other reason 409 association_state.
func associationError(err error) error {
	var soon *association.TooSoonError
	if errors.As(err, &soon) {
		e := errTooSoon.wrap(err, strings.TrimPrefix(soon.Error(), "association: "))
		e.Problems = map[string]string{"next_change_allowed": ts(soon.Next)}
		return e
	}
	r := association.ReasonOf(err)
	if r == nil {
		return errUnavailable.wrap(err, "")
	}
	msg := r.EN + " / " + r.ZH
	switch r {
	case association.ErrInvalid:
		return errInvalidRequest.wrap(err, strings.TrimPrefix(err.Error(), "association: "))
	case association.ErrNotAllowed:
		return errForbidden.wrap(err, msg)
	case association.ErrLinkNotFound, association.ErrNotAssociated:
		return errNotFound.wrap(err, msg)
	case association.ErrChangePending:
		return errChangePending.wrap(err, msg)
	case association.ErrSameType:
		return errSameType.wrap(err, msg)
	case association.ErrBusy:
		return errUnavailable.wrap(err, msg)
	}
	return errInvitationState.wrap(err, msg)
}
