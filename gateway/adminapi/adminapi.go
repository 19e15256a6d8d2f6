// Package adminapi is the admin door (/admin/v1 on the API listener):
// customers and managers, the branding workflow and the review queue, for
// staff authenticated by the sign-in door and authorized by Casbin. Its
// error tables are brandingError (workflow) and adminDomainError
// (customer registry).
package adminapi

import (
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

// Options wires the admin API.
type Options struct {
	Authorizer web.Authorizer
	Customers  Customers
	Tenants    Tenants
	// Workflow, when set, mounts the branding workflow and review queue.
	Workflow BrandingWorkflow
	// Preview, when set, answers .../branding/preview (GET: a redirect to
	// the console, POST: the link as JSON); its errors go through the
	// workflow's error table.
	Preview fiber.Handler
}

// Mount registers the admin API under Prefix: every call is first
// authenticated by authenticate (a staff session or bearer token), then
// authorized for the tenant in its path; a tenant that is not configured
// is 404 unknown_tenant, after authorization.
func Mount(api fiber.Router, authenticate fiber.Handler, o Options) {
	v1 := api.Group(Prefix, authenticate)
	known := knownTenant(o.Tenants)
	t := v1.Group("/tenants/:tenant", web.Authorize(o.Authorizer), known)
	c := &adminCustomers{c: o.Customers}
	t.Get("/customers", c.list)
	t.Get("/customers/:customer", c.get)
	t.Get("/customers/:customer/managers", c.managers)
	t.Put("/customers/:customer/managers", c.setManagers)
	if o.Workflow == nil {
		return
	}
	a := &adminBranding{w: o.Workflow}
	b := v1.Group("/tenants/:tenant/branding")
	b.Get("/draft", a.getDraft)
	b.Put("/draft", a.putDraft)
	b.Post("/images", a.postImage)
	b.Post("/submit", a.submit)
	b.Post("/withdraw", a.withdraw)
	b.Get("/submissions", a.submissions)
	b.Get("/versions", a.versions)
	b.Post("/rollback", a.rollback)
	b.Get("/audit", a.audit)
	if o.Preview != nil {
		b.Get("/preview", brandingErrors(o.Preview))
		b.Post("/preview", brandingErrors(o.Preview))
	}
	r := v1.Group("/reviews", web.Authorize(o.Authorizer))
	r.Get("", a.queue)
	r.Get("/:tenant", known, a.review)
	r.Post("/:tenant/approve", known, a.approve)
	r.Post("/:tenant/reject", known, a.reject)
}
