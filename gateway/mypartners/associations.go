package mypartners

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
)

// Paths of the customer association pages (with Options.Associations).
const (
	// InvitationsPrefix + <token> is an invitation link: sign in, read and
	// sign the notice, accept or decline.
	InvitationsPrefix = web.InvitationPath
	// AgreementsPath lists the notices the customer signed.
	AgreementsPath = Prefix + "/agreements"
	changesPath    = Prefix + "/changes/" // + <id>/confirm|refuse
)

// Associations is what the door needs of association.Service: the
// customer's side of invitations, the signed notices, the binding and the
// answer to a partner's change request.
type Associations interface {
	Redeem(ctx context.Context, token string, account authz.Subject) (association.Invitation, error)
	Sign(ctx context.Context, token, version string, account authz.Subject) (association.Signature, error)
	Accept(ctx context.Context, token string, account authz.Subject) (association.Invitation, association.Binding, error)
	Decline(ctx context.Context, token string, account authz.Subject) (association.Invitation, error)
	Signatures(ctx context.Context, customer string) ([]association.Signature, error)
	Binding(ctx context.Context, customer string) (association.Binding, bool, error)
	DecideChange(ctx context.Context, customer, id string, confirm bool, account authz.Subject) (association.Binding, error)
}

func (d *door) mountAssociations(r fiber.Router) {
	r.Get(InvitationsPrefix+":token", d.noReferrer, d.guardInvitee, d.invitationPage("inv.title", "invitation"))
	r.Post(InvitationsPrefix+":token/sign", d.noReferrer, d.guardInvitee, d.signNotice)
	r.Post(InvitationsPrefix+":token/accept", d.noReferrer, d.guardInvitee, d.acceptInvitation)
	r.Get(InvitationsPrefix+":token/decline", d.noReferrer, d.guardInvitee, d.invitationPage("inv.decline.title", "declineInvitation"))
	r.Post(InvitationsPrefix+":token/decline", d.noReferrer, d.guardInvitee, d.declineInvitation)
	r.Get(AgreementsPath, d.guardInvitee, d.agreements)
	r.Post(changesPath+":change/confirm", d.guard, d.decideChange(true))
	r.Post(changesPath+":change/refuse", d.guard, d.decideChange(false))
}

// noReferrer keeps an invitation link's token (in the path) out of the
// Referer of every link and resource on its pages (the tenant's chrome
// links to other sites).
func (d *door) noReferrer(c *fiber.Ctx) error {
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	return c.Next()
}

// assocStatus is the HTTP status of an association refusal.
func assocStatus(err error) (int, bool) {
	switch {
	case errors.Is(err, association.ErrLinkNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, association.ErrWrongAccount), errors.Is(err, association.ErrNotAllowed):
		return http.StatusForbidden, true
	case errors.Is(err, association.ErrInvalid):
		return http.StatusBadRequest, true
	case errors.Is(err, association.ErrBusy):
		return http.StatusServiceUnavailable, true
	case association.ReasonOf(err) != nil:
		return http.StatusConflict, true
	}
	return http.StatusServiceUnavailable, false
}

// assocError maps a service error to an answer (no page of its own: the
// JSON or error page of the console's error handler).
func assocError(err error) error {
	status, ok := assocStatus(err)
	if !ok {
		return &web.Error{Status: status, Code: "unavailable", RetryAfter: 5, Err: err,
			Message: "Partner association is temporarily unavailable. Please try again shortly. / 合作伙伴关联暂时不可用，请稍后重试。"}
	}
	r := association.ReasonOf(err)
	msg := r.EN + " / " + r.ZH
	var tooSoon *association.TooSoonError
	if errors.As(err, &tooSoon) {
		msg = strings.TrimPrefix(tooSoon.Error(), "association: ")
	}
	return &web.Error{Status: status, Code: r.Code, Message: msg, Err: err}
}

// problem renders the invitation page's refusal (the reason in the page's
// language, with the status of assocStatus); a store failure is an error.
func (d *door) problem(c *fiber.Ctx, v view, err error) error {
	status, ok := assocStatus(err)
	if !ok || status == http.StatusServiceUnavailable {
		return assocError(err)
	}
	r := association.ReasonOf(err)
	return d.problemPage(c, v, status, r.Code, r.Message(v.Lang))
}

// problemPage is the page of a refused invitation step.
func (d *door) problemPage(c *fiber.Ctx, v view, status int, code, msg string) error {
	data := struct {
		view
		Code, Message string
	}{view: v, Code: code, Message: msg}
	return d.renderStatus(c, status, v.Lang, v.T("inv.problem.title"), "invitationProblem", data)
}

// invitationView is the invitation page's data.
type invitationView struct {
	view
	Base, Partner, Type, TypeHelp, Expires string
	Notice, NoticeOther                    string
	Version, SignedAt                      string
	Signed, Accepted, Targeted, Online     bool
}

func (d *door) invitationData(c *fiber.Ctx, cu customer, v view, token string, inv association.Invitation) (invitationView, error) {
	iv := invitationView{view: v, Base: InvitationsPrefix + url.PathEscape(token), Partner: partnerName(c, v.Lang),
		Type: v.T("type." + inv.AssociationType), TypeHelp: v.T("type." + inv.AssociationType + ".help"),
		Accepted: inv.State == association.StateAccepted || inv.State == association.StateAccepting,
		Targeted: inv.ForCustomer != "", Online: inv.Kind == association.Online, Expires: showTime(inv.ExpiresAt),
		Version: association.NoticeVersion}
	n := association.Notice()
	iv.Notice, iv.NoticeOther = n.EN, n.ZH
	if v.Lang == "zh" {
		iv.Notice, iv.NoticeOther = n.ZH, n.EN
	}
	sigs, err := d.o.Associations.Signatures(c.UserContext(), cu.subject.Customer)
	if err != nil {
		return iv, assocError(err)
	}
	for _, s := range sigs {
		if s.Version == association.NoticeVersion && s.Tenant == inv.Tenant {
			iv.Signed, iv.SignedAt = true, showTime(s.At)
		}
	}
	return iv, nil
}

// redeem reads the route's invitation for the customer; an invitation of
// another partner than the console's is refused as not found (its link
// names that partner's console).
func (d *door) redeem(c *fiber.Ctx, cu customer) (association.Invitation, string, error) {
	token := web.Param(c, "token")
	inv, err := d.o.Associations.Redeem(c.UserContext(), token, cu.subject)
	if err == nil && inv.Tenant != cu.tenant {
		err = association.ErrLinkNotFound
	}
	return inv, token, err
}

// invitationPage renders a page of an invitation link with template tmpl
// and title key: "invitation" is the link itself (the partner, the
// association type, the notice in the page's language with the other one
// beside it, its sign form, then accept or decline); "declineInvitation"
// is the confirmation of a decline.
func (d *door) invitationPage(titleKey, tmpl string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cu := customerOf(c)
		v := d.view(c, cu)
		inv, token, err := d.redeem(c, cu)
		if err != nil {
			return d.problem(c, v, err)
		}
		iv, err := d.invitationData(c, cu, v, token, inv)
		if err != nil {
			return err
		}
		return d.render(c, v.Lang, v.T(titleKey), tmpl, iv)
	}
}

func (d *door) signNotice(c *fiber.Ctx) error {
	cu := customerOf(c)
	v := d.view(c, cu)
	_, token, err := d.redeem(c, cu)
	if err != nil {
		return d.problem(c, v, err)
	}
	if c.FormValue("agree") != "yes" {
		return d.problemPage(c, v, http.StatusBadRequest, "agree_required", v.T("inv.agree.required"))
	}
	if _, err := d.o.Associations.Sign(c.UserContext(), token, strings.Clone(c.FormValue("version")), cu.subject); err != nil {
		return d.problem(c, v, err)
	}
	return c.Redirect(InvitationsPrefix+url.PathEscape(token)+"#lp-accept", http.StatusSeeOther)
}

func (d *door) acceptInvitation(c *fiber.Ctx) error {
	cu := customerOf(c)
	v := d.view(c, cu)
	_, token, err := d.redeem(c, cu)
	if err != nil {
		return d.problem(c, v, err)
	}
	inv, _, err := d.o.Associations.Accept(c.UserContext(), token, cu.subject)
	if err != nil {
		return d.problem(c, v, err)
	}
	d.o.Log.Info("invitation accepted", "tenant", inv.Tenant, "customer", cu.subject.Customer, "invitation", inv.ID,
		"request_id", web.RequestIDOf(c))
	if d.o.Associated != nil {
		if err := d.o.Associated(c); err != nil {
			// The association stands; signing in again opens the console.
			d.o.Log.Warn("invitation accepted: session not upgraded", "tenant", inv.Tenant, "err", err,
				"request_id", web.RequestIDOf(c))
		}
	}
	return done(c, "associated")
}

func (d *door) declineInvitation(c *fiber.Ctx) error {
	cu := customerOf(c)
	v := d.view(c, cu)
	_, token, err := d.redeem(c, cu)
	if err != nil {
		return d.problem(c, v, err)
	}
	if c.FormValue("confirm") != "yes" {
		return c.Redirect(InvitationsPrefix+url.PathEscape(token)+"/decline", http.StatusSeeOther)
	}
	if _, err := d.o.Associations.Decline(c.UserContext(), token, cu.subject); err != nil {
		return d.problem(c, v, err)
	}
	return done(c, "declined")
}

// decideChange answers the partner's pending change of the customer's
// association (the customer's own binding only: the service checks the
// account; an unknown change is a conflict).
func (d *door) decideChange(confirm bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cu := customerOf(c)
		b, found, err := d.o.Associations.Binding(c.UserContext(), cu.subject.Customer)
		if err != nil {
			return assocError(err)
		}
		if !found || b.Tenant != cu.tenant {
			return assocError(association.ErrNotAssociated)
		}
		if _, err := d.o.Associations.DecideChange(c.UserContext(), cu.subject.Customer, web.Param(c, "change"), confirm, cu.subject); err != nil {
			return assocError(err)
		}
		if confirm {
			return done(c, "change_confirmed")
		}
		return done(c, "change_refused")
	}
}

// associationView is the overview's section on the customer's
// association with this partner.
type associationView struct {
	Bound                   bool
	Type, Since, NextChange string
	Pending                 *changeView
	Past                    []changeView
}

// changeView is one change request as the customer sees it.
type changeView struct {
	ID, What, Reason, By, At, State, Decided string
	Unbind                                   bool
}

func changeOf(v view, ch association.Change) changeView {
	cv := changeView{ID: ch.ID, Reason: ch.Reason, By: ch.RequestedBy.User, At: showTime(ch.RequestedAt), Unbind: ch.Kind == association.KindUnbind,
		State: v.T("change.state." + ch.State), Decided: showTime(ch.DecidedAt)}
	if cv.Unbind {
		cv.What = v.T("change.unbind", v.T("type."+ch.From))
	} else {
		cv.What = v.T("change.type", v.T("type."+ch.From), v.T("type."+ch.To))
	}
	return cv
}

// associationOf is the section's data; nil without Associations or when
// the customer has no binding with this partner.
func (d *door) associationOf(c *fiber.Ctx, cu customer, v view) (*associationView, error) {
	if d.o.Associations == nil {
		return nil, nil
	}
	b, found, err := d.o.Associations.Binding(c.UserContext(), cu.subject.Customer)
	if err != nil {
		return nil, assocError(err)
	}
	if !found || b.Tenant != cu.tenant {
		return nil, nil
	}
	av := &associationView{Bound: b.State == association.Bound, Type: v.T("type." + b.Type), Since: showTime(b.Since)}
	if next := b.NextChangeAllowed(); next.After(d.o.Now()) {
		av.NextChange = showTime(next)
	}
	if b.Pending != nil {
		p := changeOf(v, *b.Pending)
		av.Pending = &p
	}
	for i := len(b.Changes) - 1; i >= 0; i-- {
		av.Past = append(av.Past, changeOf(v, b.Changes[i]))
	}
	return av, nil
}

// chooseSignIn is a signed-out invitation link's page: sign in with the
// cloud account (the invitee's usual way) or at the partner, returning to
// the link.
func (d *door) chooseSignIn(c *fiber.Ctx) error {
	v := d.view(c, customer{})
	rd := url.QueryEscape(string(c.Request().URI().RequestURI()))
	data := struct {
		view
		Partner, Cloud, Partner2 string
	}{view: v, Partner: partnerName(c, v.Lang), Cloud: d.o.CloudLoginPath + "?rd=" + rd, Partner2: d.o.LoginPath + "?rd=" + rd}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return d.render(c, v.Lang, v.T("inv.signin.title"), "invitationSignIn", data)
}

// agreementRow is one signed notice.
type agreementRow struct{ Notice, Version, Partner, Invitation, At string }

// agreements is "My partners → Agreements": every notice the customer
// signed, newest first, and the current notice's text.
func (d *door) agreements(c *fiber.Ctx) error {
	cu := customerOf(c)
	v := d.view(c, cu)
	sigs, err := d.o.Associations.Signatures(c.UserContext(), cu.subject.Customer)
	if err != nil {
		return assocError(err)
	}
	n := association.Notice()
	data := struct {
		view
		Rows            []agreementRow
		Version, Notice string
	}{view: v, Version: n.Version, Notice: n.EN}
	if v.Lang == "zh" {
		data.Notice = n.ZH
	}
	for _, s := range sigs {
		p := s.Tenant
		if s.Tenant == cu.tenant {
			p = partnerName(c, v.Lang)
		}
		data.Rows = append(data.Rows, agreementRow{Notice: v.T("notice.title"), Version: s.Version, Partner: p, Invitation: s.Invitation, At: showTime(s.At)})
	}
	return d.render(c, v.Lang, v.T("agreements.title"), "agreements", data)
}
