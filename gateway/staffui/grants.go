package staffui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// stateOption is one choice of the state filter.
type stateOption struct {
	Value, Label string
	Selected     bool
}

// grantsPage lists the tenant's grants, newest first, filtered by state
// and customer id, a page at a time (the service's cursor). A customer
// manager sees only the grants of the customers they manage: a page may
// then show fewer rows than the page size, and "Next" goes on.
func (u *UI) grantsPage(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/delegations")); err != nil {
		return err
	}
	q := delegation.Query{State: delegation.State(c.Query("state")), Customer: strings.TrimSpace(c.Query("customer")),
		Cursor: c.Query("c"), Limit: pageSize}
	if _, ok := grantStateKeys[q.State]; !ok {
		q.State = ""
	}
	if q.Customer != "" && !delegation.ValidID(q.Customer) {
		return uiError(http.StatusBadRequest, "invalid_request", nil)
	}
	res, err := u.o.Delegations.List(c.UserContext(), t, q)
	if err != nil {
		return delegationError(err)
	}
	grants, err := u.visibleGrants(c, t, res.Grants)
	if err != nil {
		return customerError(err)
	}
	page := u.base(c, "grants.title", t)
	page.TitleArg = u.tenantName(c, t)
	rows := make([]grantRow, 0, len(grants))
	for _, g := range grants {
		rows = append(rows, u.row(page.Lang, g))
	}
	states := []stateOption{}
	for _, s := range grantStates {
		states = append(states, stateOption{Value: string(s), Label: tr(page.Lang, grantStateKeys[s]), Selected: s == q.State})
	}
	page.Data = map[string]any{"Tenant": t, "Rows": rows, "States": states, "Customer": q.Customer, "Filtered": q.State != "" || q.Customer != "",
		"Pager": cursorPager(c, page, "c", res.NextCursor, len(rows))}
	return u.page(c, "grants", page)
}

// visibleGrants keeps the grants of customers the staff member may see:
// all of them for partner admins and operators; for a customer manager,
// one registry read per distinct customer on the page.
func (u *UI) visibleGrants(c *fiber.Ctx, t string, gs []delegation.Grant) ([]delegation.Grant, error) {
	p, _ := web.PrincipalOf(c)
	if canSeeAll(p, t) {
		return gs, nil
	}
	seen := map[string]bool{}
	var out []delegation.Grant
	for _, g := range gs {
		ok, known := seen[g.Customer]
		if !known {
			cust, err := u.o.Customers.ByDomainID(c.UserContext(), t, g.Customer)
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
