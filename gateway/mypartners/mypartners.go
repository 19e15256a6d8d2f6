// Package mypartners is the "My partners" (我的合作伙伴) door on the console
// listener: a signed-in customer's view of delegated operations. It shows
// the partner (the tenant), pending requests with their scopes, duration
// and reason (approve, reject with an optional note), active grants with
// their end (revoke, after a confirmation page), past grants, and the
// activity log of every delegated action on the account (filters, paging,
// CSV export).
//
// Only a customer's own session (kind "customer", role customer) reaches
// these pages: a delegated session, where partner staff operate the
// console, is refused with 403 before anything is read. Every form
// carries a token bound to the session and passes the Origin check
// (web.OriginCheck); a grant of another customer is answered 404, as if
// it did not exist. Pages are web.Documents, wrapped in the tenant's
// chrome by the DocumentFunc the route table passes in.
package mypartners

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
)

// Paths of the door (the route table registers them with Mount).
const (
	Prefix       = web.LiveryPrefix + "partners" // the overview
	ActivityPath = Prefix + "/activity"          // the activity log
	ExportPath   = Prefix + "/activity.csv"      // its CSV export
	grantsPath   = Prefix + "/grants/"           // + <id>/approve|reject|revoke
)

// Grants is what the door needs of delegation.Service.
type Grants interface {
	ForCustomer(ctx context.Context, tenant, customer string) ([]delegation.Grant, error)
	Get(ctx context.Context, tenant, id string) (delegation.Grant, error)
	Approve(ctx context.Context, tenant, id string, customer authz.Subject) (delegation.Grant, error)
	Reject(ctx context.Context, tenant, id string, customer authz.Subject, note string) (delegation.Grant, error)
	Revoke(ctx context.Context, tenant, id string, by authz.Subject, why string) (delegation.Grant, error)
	Actions(ctx context.Context, tenant, customer string, f delegation.ActionFilter, cursor string, limit int) (delegation.ActionPage, error)
	Events(ctx context.Context, tenant, customer string) ([]audit.Record, error)
}

// Options wires the door.
type Options struct {
	Grants Grants
	// Session returns the request's console session (nil, nil when signed
	// out): sign-in's, since sign-in does not authenticate Livery's own
	// paths itself.
	Session func(c *fiber.Ctx) (*sessions.Session, error)
	// Document renders a page (the tenant's chrome); nil or failing:
	// web.PlainDocument.
	Document web.DocumentFunc
	// LoginPath is where a signed-out browser is sent (with ?rd=).
	LoginPath string
	// CloudLoginPath, when set, is the cloud-account sign-in (invited
	// customers sign in there): a signed-out invitation link offers it
	// first, beside LoginPath. Sessions it makes for accounts not
	// associated with the partner (sessions.KindInvitee) reach the
	// invitation pages and Agreements only.
	CloudLoginPath string
	// Associated, when set, is called after the customer accepted an
	// invitation, so an invitee session becomes a customer one (sign-in's
	// Customer.Associated). An error is logged; the acceptance stands.
	Associated func(c *fiber.Ctx) error
	// Associations, when set, adds the customer association pages:
	// invitation links (InvitationsPrefix), the association section of
	// the overview with the answer to a change request, and Agreements.
	// Usually the association.Service.
	Associations Associations
	Now          func() time.Time
	Log          *slog.Logger
}

// KindCustomer is the session kind of a customer's own sign-in.
const KindCustomer = sessions.KindCustomer

// MaxFormBytes bounds a form body; a larger one is refused (413) before it
// is read.
const MaxFormBytes = 16 << 10

// MaxExportRows bounds one CSV export (the newest rows of the filter).
const MaxExportRows = 10000

type door struct {
	o      Options
	origin *web.OriginCheck
}

// Mount registers the door's routes on the console app.
func Mount(r fiber.Router, o Options) {
	if o.Grants == nil || o.Session == nil {
		panic("mypartners: Options.Grants and Options.Session are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	d := &door{o: o, origin: web.NewOriginCheck()}
	r.Get(Prefix, d.guard, d.overview)
	r.Get(ActivityPath, d.guard, d.activity)
	r.Get(ExportPath, d.guard, d.export)
	r.Post(grantsPath+":grant/approve", d.guard, d.approve)
	r.Post(grantsPath+":grant/reject", d.guard, d.reject)
	r.Get(grantsPath+":grant/revoke", d.guard, d.confirmRevoke)
	r.Post(grantsPath+":grant/revoke", d.guard, d.revoke)
	if o.Associations != nil {
		d.mountAssociations(r)
	}
}

// customer is the signed-in customer of a request (set by guard).
type customer struct {
	sess    *sessions.Session
	tenant  string
	subject authz.Subject
}

const localCustomer = "livery.mypartners.customer"

func customerOf(c *fiber.Ctx) customer {
	v, _ := c.Locals(localCustomer).(customer)
	return v
}

// guard admits the customer's own session only: signed out → sign-in
// (GET from a browser) or 401; a session of any other kind (delegated,
// staff) or without role customer → 403. A state-changing request must
// also pass the Origin check and carry the session's form token.
func (d *door) guard(c *fiber.Ctx) error { return d.admit(c, false) }

// guardInvitee is guard that also admits an invitee session (a cloud
// account signed in but not associated with the partner): the invitation
// pages and Agreements. Signed out on an invitation link, with cloud
// sign-in, it shows the choice of sign-in.
func (d *door) guardInvitee(c *fiber.Ctx) error { return d.admit(c, true) }

func (d *door) admit(c *fiber.Ctx, invitee bool) error {
	sess, err := d.o.Session(c)
	if err != nil {
		return err
	}
	t := web.TenantOf(c)
	if sess == nil && t != nil && invitee && d.o.CloudLoginPath != "" && c.Method() == http.MethodGet && web.WantsHTML(c) {
		return d.chooseSignIn(c)
	}
	if sess == nil || t == nil {
		if c.Method() == http.MethodGet && web.WantsHTML(c) && d.o.LoginPath != "" {
			return c.Redirect(d.o.LoginPath+"?rd="+url.QueryEscape(string(c.Request().RequestURI())), http.StatusFound)
		}
		return web.Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in to see your partners. / 请先登录以查看合作伙伴。")
	}
	if !invitee && inviteeSession(sess) && sess.Tenant == t.ID {
		return web.Errorf(http.StatusForbidden, "not_associated",
			"This cloud account is not associated with this partner yet: open the invitation link it sent you. / 此云账号尚未关联该合作伙伴：请打开其发给您的邀请链接。")
	}
	if !(ownSession(sess) || invitee && inviteeSession(sess)) || sess.Tenant != t.ID {
		return web.Errorf(http.StatusForbidden, "customer_only",
			"Only the customer itself can open My partners; a delegated session cannot. / 仅客户本人可以打开“我的合作伙伴”，代客运维会话不能访问。")
	}
	c.Locals(web.LocalSession, sess) // the chrome shows the user's name
	c.Locals(localCustomer, customer{sess: sess, tenant: t.ID, subject: authz.Subject{User: sess.User,
		Roles: []string{authz.RoleCustomer}, Tenant: sess.Tenant, Customer: sess.AccountID}})
	if c.Method() != http.MethodGet && c.Method() != http.MethodHead {
		if err := d.origin.Check(c); err != nil {
			return err
		}
		if n := c.Request().Header.ContentLength(); n < 0 || n > MaxFormBytes {
			return web.Errorf(http.StatusRequestEntityTooLarge, "form_too_large", "The form is too large. / 表单内容过大。")
		}
		want := csrfToken(sess)
		if got := c.FormValue(csrfField); subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			return web.Errorf(http.StatusForbidden, "csrf_failed",
				"The form has expired or did not come from this site. Reload the page and try again. / 表单已过期或并非来自本站，请刷新页面后重试。")
		}
	}
	return c.Next()
}

// inviteeSession: a cloud account signed in on a console it is not
// associated with (it has no roles).
func inviteeSession(s *sessions.Session) bool {
	return s.Kind == sessions.KindInvitee && s.AccountID != "" && len(s.Roles) == 0
}

// ownSession: the customer's own sign-in, never a delegated one.
func ownSession(s *sessions.Session) bool {
	if s.Kind != KindCustomer || s.AccountID == "" || !slices.Contains(s.Roles, authz.RoleCustomer) {
		return false
	}
	for _, r := range s.Roles {
		if r == authz.RoleDelegated || strings.HasPrefix(r, delegation.RolePrefix) {
			return false
		}
	}
	return true
}

// csrfField is the form field of csrfToken.
const csrfField = "_csrf"

// csrfToken is the form token of a customer session: a hash of its id
// (it reveals nothing of the id and dies with the session).
func csrfToken(s *sessions.Session) string {
	sum := sha256.Sum256([]byte("livery-mypartners-csrf\x00" + s.ID))
	return hex.EncodeToString(sum[:])
}

// grant loads the route's grant and checks it is the customer's; any
// other (another customer's, malformed, unknown) is 404.
func (d *door) grant(c *fiber.Ctx, cu customer) (delegation.Grant, error) {
	id := web.Param(c, "grant")
	g, err := d.o.Grants.Get(c.UserContext(), cu.tenant, id)
	if err == nil && g.Customer != cu.subject.Customer {
		err = delegation.ErrNotFound
	}
	if err != nil {
		return delegation.Grant{}, grantError(err)
	}
	return g, nil
}

// grantError maps the service's errors to answers: the domain's messages
// are bilingual already.
func grantError(err error) error {
	status, code := http.StatusServiceUnavailable, "unavailable"
	switch {
	case errors.Is(err, delegation.ErrNotFound), errors.Is(err, delegation.ErrNotYourGrant):
		return &web.Error{Status: http.StatusNotFound, Code: "grant_not_found",
			Message: "There is no such authorization for your account. / 您的账户没有此授权。", Err: err}
	case errors.Is(err, delegation.ErrState):
		status, code = http.StatusConflict, "grant_state"
	case errors.Is(err, delegation.ErrActiveExists):
		status, code = http.StatusConflict, "active_exists"
	case errors.Is(err, delegation.ErrReasonRequired):
		status, code = http.StatusBadRequest, "note_too_long"
	case errors.Is(err, delegation.ErrInvalidArgument), errors.Is(err, delegation.ErrBadCursor):
		status, code = http.StatusBadRequest, "bad_request"
	default:
		return &web.Error{Status: status, Code: code, RetryAfter: 5,
			Message: "Delegated operations are temporarily unavailable. Please try again shortly. / 代客运维暂时不可用，请稍后重试。", Err: err}
	}
	return &web.Error{Status: status, Code: code, Message: errMessage(err), Err: err}
}

// errMessage is the domain's message without its package prefix.
func errMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "delegation: ")
}

// done redirects (303) to the overview with the outcome to show.
func done(c *fiber.Ctx, key string) error {
	return c.Redirect(Prefix+"?done="+key, http.StatusSeeOther)
}

func (d *door) approve(c *fiber.Ctx) error {
	cu := customerOf(c)
	g, err := d.grant(c, cu)
	if err != nil {
		return err
	}
	if _, err := d.o.Grants.Approve(c.UserContext(), cu.tenant, g.ID, cu.subject); err != nil {
		return grantError(err)
	}
	d.o.Log.Info("delegation approved by customer", "tenant", cu.tenant, "customer", cu.subject.Customer, "grant", g.ID,
		"request_id", web.RequestIDOf(c))
	return done(c, "approved")
}

func (d *door) reject(c *fiber.Ctx) error {
	cu := customerOf(c)
	g, err := d.grant(c, cu)
	if err != nil {
		return err
	}
	if _, err := d.o.Grants.Reject(c.UserContext(), cu.tenant, g.ID, cu.subject, strings.Clone(c.FormValue("note"))); err != nil {
		return grantError(err)
	}
	return done(c, "rejected")
}

func (d *door) revoke(c *fiber.Ctx) error {
	cu := customerOf(c)
	g, err := d.grant(c, cu)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return c.Redirect(grantsPath+url.PathEscape(g.ID)+"/revoke", http.StatusSeeOther)
	}
	if _, err := d.o.Grants.Revoke(c.UserContext(), cu.tenant, g.ID, cu.subject, strings.Clone(c.FormValue("reason"))); err != nil {
		return grantError(err)
	}
	return done(c, "revoked")
}
