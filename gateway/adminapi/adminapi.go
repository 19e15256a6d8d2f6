// Package adminapi is the admin door (/admin/v1 on the API listener):
// customers and managers, the branding workflow and the review queue, for
// staff authenticated by the sign-in door and authorized by Casbin. Its
// error table, errors.go, lists every code its handlers answer.
package adminapi

import (
	"errors"
	"mime"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Prefix is where the admin API is mounted on the API listener.
const Prefix = "/admin/v1"

// Tenants tells configured tenants from unknown ones.
type Tenants interface {
	ByID(id string) (*tenants.Tenant, bool)
}

// Options wires the admin API. The branding fields are usually all the
// same workflow; each one left nil leaves its routes out.
type Options struct {
	Authorizer web.Authorizer
	Customers  Customers
	Tenants    Tenants
	// Drafts mounts .../branding/draft and .../branding/images.
	Drafts Drafts
	// Submissions mounts .../branding/submit, withdraw and submissions.
	Submissions Submissions
	// History mounts .../branding/versions, rollback and audit.
	History History
	// Reviews mounts the review queue, /reviews, and (when Tenants is a
	// TenantLister) the overview of every tenant, /branding.
	Reviews Reviews
	// Managers mounts PUT .../customers/:customer/managers.
	Managers Managers
	// Staff mounts .../staff; Keys mounts .../keys.
	Staff Staff
	Keys  Keys
	// Delegations mounts .../delegations and .../delegation-agreement (with
	// Customers, for customer managers' scoping).
	Delegations Delegations
	// Associations mounts .../invitations, .../customers/:customer/association
	// and .../customers/:customer/managers/history (invitations.go);
	// InvitationLink is an invitation's link on the tenant's console
	// (default: the path alone, InvitationPath + token).
	Associations   Associations
	InvitationLink func(tenant, token string) string
	// Preview, when set, answers .../branding/preview (GET: a redirect to
	// the console, POST: the link as JSON); its errors go through the
	// admin error table.
	Preview fiber.Handler
	// Switch, when set, answers POST .../delegations/:grant/switch
	// (delegated operation's switch-in link; gateway/switchrole Start).
	Switch fiber.Handler
	// Records mounts /tenants (list, create) and /tenants/:tenant (read,
	// replace, suspend, resume, sign-in); ProbeIssuer (with Records) mounts
	// .../sign-in/test; APIStats mounts .../partner-api/summary.
	Records     TenantRecords
	ProbeIssuer ProbeIssuer
	APIStats    APIStats
}

// Mount registers the admin API under Prefix: every call is first
// authenticated by authenticate (a staff session or bearer token), then
// authorized for the tenant in its path; a tenant that is not configured
// is 404 unknown_tenant, after authorization.
func Mount(api fiber.Router, authenticate fiber.Handler, o Options) {
	v1 := api.Group(Prefix, authenticate)
	known := knownTenant(o.Tenants)
	mountTenants(v1, o) // before the group: records not yet in the live table
	t := v1.Group("/tenants/:tenant", web.Authorize(o.Authorizer), known)
	c := &adminCustomers{c: o.Customers, m: o.Managers}
	t.Get("/customers", c.list)
	t.Get("/customers/:customer", c.get)
	t.Get("/customers/:customer/managers", c.managers)
	if o.Managers != nil {
		t.Put("/customers/:customer/managers", c.setManagers)
	}
	mountStaffAndKeys(t, o)
	mountSummary(t, o)
	mountDelegations(t, o)
	mountAssociations(t, o)
	b := t.Group("/branding")
	if o.Drafts != nil {
		d := &adminDrafts{d: o.Drafts}
		b.Get("/draft", d.get)
		b.Put("/draft", d.put)
		b.Post("/images", d.postImage)
	}
	if o.Submissions != nil {
		s := &adminSubmissions{s: o.Submissions}
		b.Post("/submit", s.submit)
		b.Post("/withdraw", s.withdraw)
		b.Get("/submissions", s.list)
	}
	if o.History != nil {
		h := &adminHistory{h: o.History}
		b.Get("/versions", h.versions)
		b.Post("/rollback", h.rollback)
		b.Get("/audit", h.audit)
	}
	if o.Preview != nil {
		b.Get("/preview", previewErrors(o.Preview))
		b.Post("/preview", previewErrors(o.Preview))
	}
	if o.Switch != nil {
		t.Post("/delegations/:grant/switch", o.Switch)
	}
	if o.Reviews != nil {
		a := &adminReviews{r: o.Reviews}
		r := v1.Group("/reviews", web.Authorize(o.Authorizer))
		r.Get("", a.queue)
		r.Get("/:tenant", known, a.review)
		r.Post("/:tenant/approve", known, a.approve)
		r.Post("/:tenant/reject", known, a.reject)
	}
	mountOverview(v1, o)
}

// knownTenant answers 404 unknown_tenant for a :tenant that is not
// configured, before any handler reads or writes anything for it. It runs
// after authorization, so a partner's staff learn nothing about other
// tenants' ids (they get 403 either way).
func knownTenant(l Tenants) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if _, ok := l.ByID(web.Param(c, "tenant")); !ok {
			return errUnknownTenant.withf("No tenant %q is configured.", web.Truncate(web.Param(c, "tenant"), 64))
		}
		return c.Next()
	}
}

// decodeJSONBody decodes an application/json body strictly (see
// web.DecodeStrict) into v. Errors: 415 unsupported_media_type for another
// Content-Type, 400 bad_json naming the field for a body that is not one
// well-formed JSON object of v's fields and types.
func decodeJSONBody(c *fiber.Ctx, v any) error {
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != fiber.MIMEApplicationJSON {
		return errUnsupportedMediaType.new()
	}
	if err := web.DecodeStrict(c.Body(), v); err != nil {
		var fe *tenants.FieldError
		if errors.As(err, &fe) {
			return errBadJSON.withf("%s %s.", fe.Field, fe.Reason)
		}
		return errBadJSON.new()
	}
	return nil
}
