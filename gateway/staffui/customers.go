package staffui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
)

// customersData is the customer list: the query as the form shows it, one
// page of rows and the paging links.
type customersData struct {
	Tenant  string
	Q       string
	Type    string
	Manager string
	// On (YYYY-MM-DD), with a manager: the customers that manager managed
	// at any time that day (the manager periods), earlier ones included.
	On        string
	OnProblem string // the "on" field's error, in the page's language
	OnGone    int    // customers of that day no longer in the list (unbound)
	CanOn     bool   // the filter is offered (association service wired)
	Rows      []tenants.Customer
	Count     int
	Mine      bool
	Pager     pagerData
	CSV       string
	Staff     []tenants.StaffMember
}

func customersPath(t string) string { return Prefix + "t/" + url.PathEscape(t) + "/customers" }

// customers lists the tenant's customers (a customer manager: only their
// own), newest association first, searched by name, account or platform
// account, filtered by association type and manager, a page at a time.
func (u *UI) customers(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/customers")); err != nil {
		return err
	}
	p, _ := web.PrincipalOf(c)
	d := customersData{Tenant: t, Q: strings.TrimSpace(c.Query("q")), Type: c.Query("type"), Manager: strings.TrimSpace(c.Query("manager"))}
	if d.Type != "" && d.Type != "1" && d.Type != "2" {
		d.Type = ""
	}
	q := tenants.Search{Q: d.Q, AssociationType: d.Type, Manager: d.Manager, Cursor: c.Query("c"), Limit: pageSize}
	if !canSeeAll(p, t) {
		q.Scope, d.Mine = []string{p.User}, true
	}
	page := u.base(c, "customers.title", t)
	d.CanOn = u.o.Associations != nil
	if on := strings.TrimSpace(c.Query("on")); on != "" && d.CanOn {
		d.On = on
		if done, err := u.managedOn(c, &page, t, p.User, &d); done || err != nil {
			if err == nil {
				page.Data = d
				return u.page(c, "customers", page)
			}
			return err
		}
	}
	res, err := u.o.Customers.Page(c.UserContext(), t, q)
	if err != nil {
		return customerError(err)
	}
	d.Rows, d.Count = res.Customers, res.Total
	d.Pager = cursorPager(c, page, "c", res.NextCursor, len(res.Customers))
	d.Pager.Info = page.T("customers.count", res.Total)
	csv := url.Values{"format": {"csv"}}
	for k, v := range map[string]string{"q": d.Q, "association_type": d.Type, "manager": d.Manager} {
		if v != "" {
			csv.Set(k, v)
		}
	}
	d.CSV = adminPrefix + tenantPath(url.PathEscape(t), "/customers") + "?" + csv.Encode()
	if !d.Mine && u.o.Staff != nil {
		if d.Staff, err = u.o.Staff.List(c.UserContext(), t); err != nil {
			return customerError(err)
		}
	}
	page.Data = d
	return u.page(c, "customers", page)
}

// customer is one customer's detail; a customer the staff member may not
// see is 404, like a missing one.
func (u *UI) customer(c *fiber.Ctx) error {
	t, id := web.Param(c, "tenant"), web.Param(c, "customer")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/customers/"+id)); err != nil {
		return err
	}
	cust, err := u.visibleCustomer(c, t, id)
	if err != nil {
		return err
	}
	page := u.base(c, "customer.title", t)
	page.TitleArg = cust.DomainName
	canEdit := u.o.Managers != nil && u.allowed(c, http.MethodPut, tenantPath(t, "/customers/"+id+"/managers"), t)
	var staff []tenants.StaffMember
	if canEdit && u.o.Staff != nil {
		if staff, err = u.o.Staff.List(c.UserContext(), t); err != nil {
			return customerError(err)
		}
	}
	deleg, err := u.delegationSection(c, page.Lang, t, cust)
	if err != nil {
		return err
	}
	assoc, err := u.associationSection(c, t, cust.DomainID)
	if err != nil {
		return err
	}
	page.Data = map[string]any{"Tenant": t, "C": cust, "CanEdit": canEdit, "Staff": staff, "Assigned": cust.Managers, "Deleg": deleg, "Assoc": assoc}
	return u.page(c, "customer", page)
}

// managedOn fills d with the customers d's manager (a customer manager:
// itself) managed on the day d.On, from the manager periods; done is
// false when the filter cannot apply (a malformed date or no manager:
// d.OnProblem says why, and the ordinary list is shown).
func (u *UI) managedOn(c *fiber.Ctx, page *pageData, t, self string, d *customersData) (done bool, err error) {
	day, perr := time.Parse(time.DateOnly, d.On)
	manager := d.Manager
	if d.Mine {
		manager = self
	}
	switch {
	case perr != nil:
		d.OnProblem = page.T("customers.on_bad")
		return false, nil
	case manager == "":
		d.OnProblem = page.T("customers.on_needs_manager")
		return false, nil
	}
	ids, err := u.o.Associations.CustomersOn(c.UserContext(), t, manager, day)
	if err != nil {
		return false, associationError(err)
	}
	for _, id := range ids {
		cust, err := u.o.Customers.ByDomainID(c.UserContext(), t, id)
		if err != nil {
			return false, customerError(err)
		}
		if cust == nil || d.Mine && !slices.Contains(cust.Managers, self) {
			// Unbound since, or (a customer manager) no longer its own:
			// counted, not shown.
			d.OnGone++
			continue
		}
		d.Rows = append(d.Rows, *cust)
	}
	d.Count = len(d.Rows)
	d.Pager.Info = page.T("customers.on_count", len(d.Rows), manager, d.On)
	return true, nil
}

func (u *UI) visibleCustomer(c *fiber.Ctx, t, id string) (*tenants.Customer, error) {
	p, _ := web.PrincipalOf(c)
	cust, err := u.o.Customers.ByDomainID(c.UserContext(), t, id)
	if err != nil {
		return nil, customerError(err)
	}
	if cust == nil || !canSeeCustomer(p, t, cust.Managers) {
		return nil, web.Errorf(http.StatusNotFound, "customer_not_found", "No such customer.")
	}
	return cust, nil
}

// setManagers replaces a customer's managers with the staff ticked in the
// form (known staff only: the service refuses others, naming them).
func (u *UI) setManagers(c *fiber.Ctx) error {
	t, id := web.Param(c, "tenant"), web.Param(c, "customer")
	if err := u.authorizeAs(c, http.MethodPut, tenantPath(t, "/customers/"+id+"/managers")); err != nil {
		return err
	}
	if _, err := u.visibleCustomer(c, t, id); err != nil {
		return err
	}
	var managers []string
	for _, v := range c.Request().PostArgs().PeekMulti("managers") {
		if m := strings.TrimSpace(string(v)); m != "" && !slices.Contains(managers, m) {
			managers = append(managers, m)
		}
	}
	where := customersPath(t) + "/" + url.PathEscape(id)
	if _, err := u.o.Managers.Assign(c.UserContext(), actorOf(c), t, id, managers); err != nil {
		return back(c, where, customerError(err))
	}
	return done(c, where, "done.managers")
}

// auditEvents are the branding workflow's audit events, for the filter.
var auditEvents = []string{workflow.EventDraftSave, workflow.EventImageUpload, workflow.EventSubmit, workflow.EventWithdraw,
	workflow.EventApprove, workflow.EventReject, workflow.EventRollback, workflow.EventPreviewRefused}

// dateParam reads a YYYY-MM-DD query parameter as the start of that day
// (UTC), or the start of the next day when end is set (an inclusive "until"
// date). Absent: the zero time. Malformed: 400 naming the parameter.
func dateParam(c *fiber.Ctx, key string, end bool) (time.Time, error) {
	v := strings.TrimSpace(c.Query(key))
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, &web.Error{Status: http.StatusBadRequest, Code: "bad_date", Message: key + " must be a date (YYYY-MM-DD)."}
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// auditPage is the tenant's branding audit log, newest first, filtered by
// event, actor and dates, a page at a time.
func (u *UI) auditPage(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/branding/audit")); err != nil {
		return err
	}
	f := audit.Filter{Action: strings.TrimSpace(c.Query("event")), Actor: strings.TrimSpace(c.Query("actor"))}
	var err error
	if f.Since, err = dateParam(c, "since", false); err != nil {
		return err
	}
	if f.Until, err = dateParam(c, "until", true); err != nil {
		return err
	}
	rows, next, err := u.o.History.AuditPage(c.UserContext(), t, f, workflow.Page{Cursor: c.Query("c"), Limit: pageSize})
	if err != nil {
		return pageError(err)
	}
	page := u.base(c, "audit.title", t)
	page.TitleArg = u.tenantName(c, t)
	page.Data = map[string]any{"Tenant": t, "Rows": rows, "Events": auditEvents, "Event": f.Action, "Actor": f.Actor,
		"Since": c.Query("since"), "Until": c.Query("until"), "Pager": cursorPager(c, page, "c", next, len(rows))}
	return u.page(c, "audit", page)
}
