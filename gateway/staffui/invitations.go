package staffui

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/internal/qrpng"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
)

// Associations is what the customer association pages need of
// association.Service: the partner's side of invitations, change
// requests and manager history.
type Associations interface {
	List(ctx context.Context, tenant string) ([]association.Invitation, error)
	Create(ctx context.Context, tenant string, in association.CreateInput, actor authz.Subject) (association.Invitation, string, error)
	Get(ctx context.Context, tenant, id string) (association.Invitation, error)
	Resend(ctx context.Context, tenant, id string, actor authz.Subject) (association.Invitation, string, error)
	Revoke(ctx context.Context, tenant, id string, actor authz.Subject) (association.Invitation, error)
	Binding(ctx context.Context, customer string) (association.Binding, bool, error)
	RequestChange(ctx context.Context, tenant, customer, kind, to, why string, actor authz.Subject) (association.Change, error)
	History(ctx context.Context, tenant, customer string) ([]association.Period, error)
	CustomersOn(ctx context.Context, tenant, manager string, d time.Time) ([]string, error)
}

// InvitationLinkPath (web.InvitationPath) is the console path of an invitation link's token
// (gateway/mypartners serves it; doors do not import each other).
const InvitationLinkPath = web.InvitationPath

func invitationsPath(t string) string { return Prefix + "t/" + url.PathEscape(t) + "/invitations" }

// mountAssociations registers the invitation pages and the customer
// page's change request (with Associations).
func (u *UI) mountAssociations(t fiber.Router) {
	if u.o.Associations == nil {
		return
	}
	t.Get("/invitations", u.invitations)
	t.Post("/invitations", u.createInvitation)
	t.Post("/invitations/:invitation/resend", u.resendInvitation)
	t.Post("/invitations/:invitation/revoke", u.revokeInvitation)
	if u.o.Customers != nil {
		t.Post("/customers/:customer/association-changes", u.requestChange)
	}
}

// invitationRow is one invitation as the list shows it.
type invitationRow struct {
	I                   association.Invitation
	State, StateLabel   string
	Failure             string // the last failed acceptance, in the page's language
	CanResend, CanRevok bool
}

// invitations lists the tenant's invitations, newest first, with their
// effective state and the reason of the last failed acceptance, and the
// form to create one.
func (u *UI) invitations(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/invitations")); err != nil {
		return err
	}
	list, err := u.o.Associations.List(c.UserContext(), t)
	if err != nil {
		return associationError(err)
	}
	page := u.base(c, "inv.title", t)
	now := u.now()
	rows := make([]invitationRow, 0, len(list))
	for _, i := range list {
		st := i.StateAt(now)
		r := invitationRow{I: i, State: st, StateLabel: tr(page.Lang, "inv.state."+st),
			CanResend: i.Kind == association.Online && i.State == association.StatePending,
			CanRevok:  i.State == association.StatePending}
		if f := i.Failure; f != nil && i.State == association.StatePending {
			r.Failure = f.EN
			if page.Lang == "zh" {
				r.Failure = f.ZH
			}
		}
		rows = append(rows, r)
	}
	page.Data = map[string]any{"Tenant": t, "Rows": rows, "Action": invitationsPath(t)}
	return u.page(c, "invitations", page)
}

// linkData is the page that shows an invitation's link once (after create
// or resend): the token is never stored, so this is the only time.
type linkData struct {
	Tenant, Link, Back string
	I                  association.Invitation
	QR                 template.URL // a data: URI (the policy allows data: images)
	Resent             bool
}

// invitationLink is the console URL of token for tenant t.
func (u *UI) invitationLink(t, token string) string {
	base := ""
	if tn, ok := u.o.Tenants.ByID(t); ok {
		if u.o.ConsoleURL != nil {
			base = u.o.ConsoleURL(tn)
		} else if len(tn.Hosts) > 0 {
			base = "https://" + tn.Hosts[0]
		}
	}
	return strings.TrimSuffix(base, "/") + InvitationLinkPath + url.PathEscape(token)
}

// qrDataURI is link as a QR code PNG in a data: URI (internal/qrpng).
func qrDataURI(link string) (template.URL, error) {
	uri, err := qrpng.DataURI(link)
	return template.URL(uri), err
}

func (u *UI) showLink(c *fiber.Ctx, t string, inv association.Invitation, token string, resent bool) error {
	d := linkData{Tenant: t, Link: u.invitationLink(t, token), Back: invitationsPath(t), I: inv, Resent: resent}
	q, err := qrDataURI(d.Link)
	if err != nil {
		return err
	}
	d.QR = q
	page := u.base(c, "inv.link.title", t)
	page.Data = d
	return u.page(c, "invitation_link", page)
}

func (u *UI) createInvitation(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/invitations")); err != nil {
		return err
	}
	in := association.CreateInput{Kind: strings.Clone(c.FormValue("kind")), AssociationType: strings.Clone(c.FormValue("association_type")),
		ForCustomer: strings.TrimSpace(strings.Clone(c.FormValue("for_customer")))}
	inv, token, err := u.o.Associations.Create(c.UserContext(), t, in, actor(c))
	if err != nil {
		return back(c, invitationsPath(t), associationError(err))
	}
	u.o.Log.Info("invitation created", "tenant", t, "invitation", inv.ID, "kind", inv.Kind, "by", actor(c).User, "request_id", web.RequestIDOf(c))
	return u.showLink(c, t, inv, token, false)
}

func (u *UI) resendInvitation(c *fiber.Ctx) error {
	t, id := web.Param(c, "tenant"), web.Param(c, "invitation")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/invitations/"+id+"/resend")); err != nil {
		return err
	}
	inv, token, err := u.o.Associations.Resend(c.UserContext(), t, id, actor(c))
	if err != nil {
		return back(c, invitationsPath(t), associationError(err))
	}
	return u.showLink(c, t, inv, token, true)
}

func (u *UI) revokeInvitation(c *fiber.Ctx) error {
	t, id := web.Param(c, "tenant"), web.Param(c, "invitation")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/invitations/"+id+"/revoke")); err != nil {
		return err
	}
	if !confirmed(c) {
		if _, err := u.o.Associations.Get(c.UserContext(), t, id); err != nil {
			return back(c, invitationsPath(t), associationError(err))
		}
		return u.confirm(c, confirmData{Action: invitationsPath(t) + "/" + url.PathEscape(id) + "/revoke", Text: "confirm.revoke_invitation",
			Arg: id, Back: invitationsPath(t), Button: "action.revoke_invitation"})
	}
	if _, err := u.o.Associations.Revoke(c.UserContext(), t, id, actor(c)); err != nil {
		return back(c, invitationsPath(t), associationError(err))
	}
	return done(c, invitationsPath(t), "done.invitation_revoked")
}

// associationSection is the customer page's "Association" part: the
// binding made by an invitation (if any), the pending change, when the
// next change is allowed, the change form, and the manager periods.
type associationSection struct {
	Found, Bound, CanRequest bool
	B                        association.Binding
	NextAllowed              string // "" when a change is allowed now
	OtherType                string
	History                  []association.Period
}

func (u *UI) associationSection(c *fiber.Ctx, t, customer string) (*associationSection, error) {
	if u.o.Associations == nil {
		return nil, nil
	}
	s := &associationSection{}
	b, found, err := u.o.Associations.Binding(c.UserContext(), customer)
	if err != nil {
		return nil, associationError(err)
	}
	if found && b.Tenant == t {
		s.Found, s.Bound, s.B = true, b.State == association.Bound, b
		if next := b.NextChangeAllowed(); next.After(u.now()) {
			s.NextAllowed = formatTime(next)
		}
		s.OtherType = association.TypeReferral
		if b.Type == association.TypeReferral {
			s.OtherType = association.TypeResale
		}
		s.CanRequest = s.Bound && b.Pending == nil && u.allowed(c, http.MethodPost, tenantPath(t, "/customers/"+customer+"/association/changes"), t)
	}
	if s.History, err = u.o.Associations.History(c.UserContext(), t, customer); err != nil {
		return nil, associationError(err)
	}
	return s, nil
}

// requestChange asks the customer to confirm a change of its association
// type or its unbinding.
func (u *UI) requestChange(c *fiber.Ctx) error {
	t, id := web.Param(c, "tenant"), web.Param(c, "customer")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/customers/"+id+"/association/changes")); err != nil {
		return err
	}
	if _, err := u.visibleCustomer(c, t, id); err != nil {
		return err
	}
	where := customerPath(t, id) + "#association"
	kind, to := strings.Clone(c.FormValue("kind")), strings.Clone(c.FormValue("to"))
	if _, err := u.o.Associations.RequestChange(c.UserContext(), t, id, kind, to, strings.Clone(c.FormValue("reason")), actor(c)); err != nil {
		return back(c, where, associationError(err))
	}
	return done(c, where, "done.change_requested")
}

// associationError maps the service's refusals to the UI's codes
// ("err.assoc_<code>" texts); other errors go to the error page.
func associationError(err error) error {
	r := association.ReasonOf(err)
	if r == nil {
		return err
	}
	status := http.StatusConflict
	switch {
	case errors.Is(err, association.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, association.ErrNotAllowed):
		status = http.StatusForbidden
	case errors.Is(err, association.ErrLinkNotFound):
		status = http.StatusNotFound
	case errors.Is(err, association.ErrBusy):
		status = http.StatusServiceUnavailable
	}
	return uiError(status, "assoc_"+r.Code, err)
}
