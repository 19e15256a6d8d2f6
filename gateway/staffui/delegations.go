package staffui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
)

// Delegations is what the delegated-operation pages need
// (delegation.Service): the partner's side of grants and the agreement.
type Delegations interface {
	List(ctx context.Context, tenant string, q delegation.Query) (delegation.GrantPage, error)
	Get(ctx context.Context, tenant, id string) (delegation.Grant, error)
	Pending(ctx context.Context, tenant, customer string) (delegation.Grant, bool, error)
	ActiveGrant(ctx context.Context, tenant, customer string) (delegation.Grant, bool, error)
	Request(ctx context.Context, tenant string, in delegation.RequestInput, staff authz.Subject) (delegation.Grant, error)
	Withdraw(ctx context.Context, tenant, id string, staff authz.Subject) (delegation.Grant, error)
	Revoke(ctx context.Context, tenant, id string, by authz.Subject, why string) (delegation.Grant, error)
	Accepted(ctx context.Context, tenant string) (delegation.Acceptance, bool, error)
	AcceptAgreement(ctx context.Context, tenant, version string, staff authz.Subject) (delegation.Acceptance, error)
	Events(ctx context.Context, tenant, customer string) ([]audit.Record, error)
}

// mountDelegations registers the delegated-operation forms and pages
// (with Customers: every one of them is about a customer).
func (u *UI) mountDelegations(t fiber.Router) {
	if u.o.Delegations == nil || u.o.Customers == nil {
		return
	}
	t.Get("/delegations", u.grantsPage)
	t.Post("/delegation-agreement", u.acceptAgreement)
	t.Post("/customers/:customer/delegations", u.requestGrant)
	t.Post("/delegations/:grant/withdraw", u.withdrawGrant)
	t.Post("/delegations/:grant/revoke", u.revokeGrant)
	t.Get("/delegations/:grant/operate", u.operate)
}

func delegationsPath(t string) string { return Prefix + "t/" + url.PathEscape(t) + "/delegations" }

func customerPath(t, id string) string { return customersPath(t) + "/" + url.PathEscape(id) }

// durations are the request form's choices, in hours.
var durations = []struct {
	Hours int
	Key   string
}{{1, "deleg.dur_1h"}, {24, "deleg.dur_1d"}, {7 * 24, "deleg.dur_7d"}, {30 * 24, "deleg.dur_30d"},
	{90 * 24, "deleg.dur_90d"}, {365 * 24, "deleg.dur_1y"}}

// grantStateKeys are the catalog keys of the effective grant states.
var grantStateKeys = map[delegation.State]string{
	delegation.StateRequested: "gstate.requested", delegation.StateApproved: "gstate.approved",
	delegation.StateRejected: "gstate.rejected", delegation.StateWithdrawn: "gstate.withdrawn",
	delegation.StateRequestExpired: "gstate.request_expired", delegation.StateRevoked: "gstate.revoked",
	delegation.StateExpired: "gstate.expired",
}

// grantStates are the states in lifecycle order, for the filter.
var grantStates = []delegation.State{delegation.StateRequested, delegation.StateApproved, delegation.StateRejected,
	delegation.StateWithdrawn, delegation.StateRequestExpired, delegation.StateRevoked, delegation.StateExpired}

// grantRow is a grant as the pages show it, at the request's time.
type grantRow struct {
	G          delegation.Grant
	State      delegation.State
	StateLabel string
	Badge      string // the badge class
	Scopes     []string
	Duration   string
	Left       string // time left of an active grant
}

func (u *UI) row(l string, g delegation.Grant) grantRow {
	now := u.now()
	st := g.StateAt(now)
	r := grantRow{G: g, State: st, StateLabel: tr(l, grantStateKeys[st]), Duration: durationText(l, g.Duration)}
	switch st {
	case delegation.StateRequested:
		r.Badge = "pending"
	case delegation.StateApproved:
		r.Badge, r.Left = "approved", durationText(l, g.EndsAt.Sub(now).Truncate(time.Minute))
	case delegation.StateRejected, delegation.StateRevoked:
		r.Badge = "rejected"
	default:
		r.Badge = "withdrawn"
	}
	for _, s := range g.Scopes {
		r.Scopes = append(r.Scopes, scopeLabel(l, s))
	}
	return r
}

// scopeLabel is a scope's description in language l (delegation.Scopes).
func scopeLabel(l string, s delegation.Scope) string {
	for _, i := range delegation.Scopes() {
		if i.Scope == s {
			if l == render.LocaleZH {
				return i.ZH
			}
			return i.EN
		}
	}
	return string(s)
}

// durationText is d in days and hours, or minutes below an hour.
func durationText(l string, d time.Duration) string {
	if d < time.Hour {
		return tr(l, "deleg.minutes", int(d/time.Minute))
	}
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	switch {
	case days == 0:
		return tr(l, "deleg.hours", hours)
	case hours == 0:
		return tr(l, "deleg.days", days)
	}
	return tr(l, "deleg.days_hours", days, hours)
}

// scopeOption is one checkbox of the request form.
type scopeOption struct {
	Value, Label, Role string
}

// delegationSection is the customer page's "Delegated operations" part.
type delegationSection struct {
	Resale      bool
	Agreement   delegation.AgreementText
	AgreementZH bool // show the Chinese text first
	Accepted    bool
	AcceptedBy  string
	AcceptedAt  time.Time
	CanAccept   bool
	CanRequest  bool
	Pending     *grantRow
	Active      *grantRow
	Scopes      []scopeOption
	Durations   []scopeOption
	CanWithdraw bool
	CanRevoke   bool
	CanOperate  bool
	// Events are the customer's grant events (requested, approved, switch
	// in and out, revoked, …), newest first, at most maxEvents.
	Events []audit.Record
	More   bool
}

// maxEvents is how many grant events the customer page shows.
const maxEvents = 20

// delegationSection reads what the customer page shows of delegated
// operations for cust; nil when they are not wired.
func (u *UI) delegationSection(c *fiber.Ctx, l, t string, cust *tenants.Customer) (*delegationSection, error) {
	if u.o.Delegations == nil {
		return nil, nil
	}
	d := &delegationSection{Resale: cust.AssociationType == delegation.AssociationResale, Agreement: delegation.Agreement(),
		AgreementZH: l == render.LocaleZH}
	if !d.Resale {
		return d, nil
	}
	ctx := c.UserContext()
	acc, found, err := u.o.Delegations.Accepted(ctx, t)
	if err != nil {
		return nil, delegationError(err)
	}
	d.Accepted, d.AcceptedBy, d.AcceptedAt = found, acc.By.User, acc.At
	if p, ok, err := u.o.Delegations.Pending(ctx, t, cust.DomainID); err != nil {
		return nil, delegationError(err)
	} else if ok {
		r := u.row(l, p)
		d.Pending = &r
	}
	if a, ok, err := u.o.Delegations.ActiveGrant(ctx, t, cust.DomainID); err != nil {
		return nil, delegationError(err)
	} else if ok {
		r := u.row(l, a)
		d.Active = &r
	}
	ev, err := u.o.Delegations.Events(ctx, t, cust.DomainID)
	if err != nil {
		return nil, delegationError(err)
	}
	slices.Reverse(ev)
	d.Events, d.More = ev[:min(len(ev), maxEvents)], len(ev) > maxEvents
	d.CanAccept = u.allowed(c, http.MethodPost, tenantPath(t, "/delegation-agreement"), t)
	d.CanRequest = u.allowed(c, http.MethodPost, tenantPath(t, "/delegations"), t)
	d.CanWithdraw = u.allowed(c, http.MethodPost, tenantPath(t, "/delegations/x/withdraw"), t)
	d.CanRevoke = u.allowed(c, http.MethodPost, tenantPath(t, "/delegations/x/revoke"), t)
	d.CanOperate = u.o.SwitchPath != nil && u.allowed(c, http.MethodPost, tenantPath(t, "/delegations/x/switch"), t)
	for _, s := range delegation.Scopes() {
		label := s.EN
		if l == render.LocaleZH {
			label = s.ZH
		}
		d.Scopes = append(d.Scopes, scopeOption{Value: string(s.Scope), Label: label, Role: s.Role})
	}
	for _, du := range durations {
		d.Durations = append(d.Durations, scopeOption{Value: strconv.Itoa(du.Hours), Label: tr(l, du.Key)})
	}
	return d, nil
}

// acceptAgreement records the partner's acceptance of the agreement
// version in the form, then returns to the customer page it came from
// (or the grants page).
func (u *UI) acceptAgreement(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/delegation-agreement")); err != nil {
		return err
	}
	where := delegationsPath(t)
	if id := strings.TrimSpace(c.FormValue("customer")); id != "" && delegation.ValidID(id) {
		where = customerPath(t, id) + "#delegation"
	}
	if _, err := u.o.Delegations.AcceptAgreement(c.UserContext(), t, c.FormValue("version"), actor(c)); err != nil {
		return back(c, where, delegationError(err))
	}
	return done(c, where, "done.agreement_accepted")
}

// requestGrant asks the customer for a grant: the ticked scopes, the
// chosen duration (hours) and the reason; replaces names the active grant
// the form showed.
func (u *UI) requestGrant(c *fiber.Ctx) error {
	t, id := web.Param(c, "tenant"), web.Param(c, "customer")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/delegations")); err != nil {
		return err
	}
	if _, err := u.visibleCustomer(c, t, id); err != nil {
		return err
	}
	where := customerPath(t, id) + "#delegation"
	hours, err := strconv.Atoi(c.FormValue("duration_hours"))
	if err != nil || hours < 1 {
		return back(c, where, uiError(http.StatusBadRequest, "bad_duration", nil))
	}
	in := delegation.RequestInput{Customer: id, Duration: time.Duration(hours) * time.Hour,
		Reason: c.FormValue("reason"), Replaces: strings.TrimSpace(c.FormValue("replaces"))}
	for _, v := range c.Request().PostArgs().PeekMulti("scopes") {
		in.Scopes = append(in.Scopes, delegation.Scope(strings.Clone(string(v))))
	}
	if _, err := u.o.Delegations.Request(c.UserContext(), t, in, actor(c)); err != nil {
		return back(c, where, delegationError(err))
	}
	return done(c, where, "done.grant_requested")
}

// visibleGrant loads the path's grant and checks the staff member may see
// its customer (a customer manager: only theirs; 404 otherwise, like a
// missing grant).
func (u *UI) visibleGrant(c *fiber.Ctx, t string) (delegation.Grant, error) {
	g, err := u.o.Delegations.Get(c.UserContext(), t, web.Param(c, "grant"))
	if err != nil {
		return g, delegationError(err)
	}
	if _, err := u.visibleCustomer(c, t, g.Customer); err != nil {
		if e := web.ToError(err); e.Status == http.StatusNotFound {
			return g, uiError(http.StatusNotFound, "grant_not_found", err)
		}
		return g, err
	}
	return g, nil
}

// withdrawGrant withdraws a pending request after a confirmation.
func (u *UI) withdrawGrant(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/delegations/"+web.Param(c, "grant")+"/withdraw")); err != nil {
		return err
	}
	g, err := u.visibleGrant(c, t)
	if err != nil {
		return err
	}
	where := customerPath(t, g.Customer) + "#delegation"
	if !confirmed(c) {
		return u.confirm(c, confirmData{Action: c.Path(), Text: "confirm.withdraw_grant", Arg: customerName(g), Back: where, Button: "action.withdraw"})
	}
	if _, err := u.o.Delegations.Withdraw(c.UserContext(), t, g.ID, actor(c)); err != nil {
		return back(c, where, delegationError(err))
	}
	return done(c, where, "done.grant_withdrawn")
}

// revokeGrant ends an active grant after a confirmation (the reason is
// optional); delegated sessions under it end on every instance.
func (u *UI) revokeGrant(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/delegations/"+web.Param(c, "grant")+"/revoke")); err != nil {
		return err
	}
	g, err := u.visibleGrant(c, t)
	if err != nil {
		return err
	}
	where := customerPath(t, g.Customer) + "#delegation"
	if !confirmed(c) {
		return u.confirm(c, confirmData{Action: c.Path(), Text: "confirm.revoke_grant", Arg: customerName(g), Back: where, Button: "action.revoke_grant"})
	}
	if _, err := u.o.Delegations.Revoke(c.UserContext(), t, g.ID, actor(c), strings.TrimSpace(c.FormValue("reason"))); err != nil {
		return back(c, where, delegationError(err))
	}
	return done(c, where, "done.grant_revoked")
}

// operate is the confirmation before switching into the customer's
// console: what the grant allows, until when, and that every action is
// recorded in the customer's activity log. Its form posts to the admin
// API's switch route (SwitchPath), which answers the browser with a
// redirect into the console.
func (u *UI) operate(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/delegations/"+web.Param(c, "grant")+"/switch")); err != nil {
		return err
	}
	g, err := u.visibleGrant(c, t)
	if err != nil {
		return err
	}
	page := u.base(c, "operate.title", t)
	page.TitleArg = customerName(g)
	if !g.Active(u.now()) || u.o.SwitchPath == nil {
		return back(c, customerPath(t, g.Customer)+"#delegation", uiError(http.StatusConflict, "grant_not_active", nil))
	}
	page.Data = map[string]any{"Tenant": t, "Row": u.row(page.Lang, g), "Action": u.o.SwitchPath(t, g.ID),
		"Partner": u.tenantName(c, t), "Back": customerPath(t, g.Customer) + "#delegation"}
	// The switch route answers the form with a redirect to the customer's
	// console, another origin: browsers apply form-action to the redirects
	// of a form submission, so the page allows the console's origin too.
	if origin := u.consoleOrigin(t); origin != "" {
		c.Set(fiber.HeaderContentSecurityPolicy, strings.Replace(pageCSP, "form-action 'self'", "form-action 'self' "+origin, 1))
	}
	return u.page(c, "operate", page)
}

// consoleOrigin is the origin (scheme://host[:port]) of tenant's console
// ("" when ConsoleURL is not set or gives no absolute URL).
func (u *UI) consoleOrigin(tenant string) string {
	if u.o.ConsoleURL == nil {
		return ""
	}
	tt, ok := u.o.Tenants.ByID(tenant)
	if !ok {
		return ""
	}
	p, err := url.Parse(u.o.ConsoleURL(tt))
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || strings.ContainsAny(p.Host, " ;,'") {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

func customerName(g delegation.Grant) string {
	if g.CustomerName != "" {
		return g.CustomerName
	}
	return g.Customer
}

// uiError is a UI error whose text is the catalog's "err.<code>".
func uiError(status int, code string, cause error) *web.Error {
	return &web.Error{Status: status, Code: code, Message: tr("en", "err."+code), Err: cause}
}

// delegationError maps an error of delegated operations to the UI's
// error with the admin API's meaning: the refusals keep their status and
// get their own text (the agreement, a referral customer, a pending or
// active grant, the grant's state, bad scopes, duration or reason); any
// other error is returned as it is (500, or 503 for the store).
func delegationError(err error) error {
	for _, m := range []struct {
		target error
		status int
		code   string
	}{
		{delegation.ErrBadScope, http.StatusBadRequest, "bad_scope"},
		{delegation.ErrBadDuration, http.StatusBadRequest, "bad_duration"},
		{delegation.ErrReasonRequired, http.StatusBadRequest, "reason_required"},
		{delegation.ErrBadCursor, http.StatusBadRequest, "bad_cursor"},
		{delegation.ErrInvalidArgument, http.StatusBadRequest, "invalid_request"},
		{delegation.ErrNotYourGrant, http.StatusForbidden, "forbidden"},
		{delegation.ErrNotFound, http.StatusNotFound, "grant_not_found"},
		{delegation.ErrUnknownCustomer, http.StatusNotFound, "customer_not_found"},
		{delegation.ErrReferralCustomer, http.StatusUnprocessableEntity, "referral_customer"},
		{delegation.ErrAgreementRequired, http.StatusConflict, "agreement_required"},
		{delegation.ErrAgreementVersion, http.StatusConflict, "agreement_version"},
		{delegation.ErrPendingExists, http.StatusConflict, "delegation_pending"},
		{delegation.ErrActiveExists, http.StatusConflict, "delegation_active"},
		{delegation.ErrState, http.StatusConflict, "grant_state"},
	} {
		if errors.Is(err, m.target) {
			return uiError(m.status, m.code, err)
		}
	}
	return err
}
