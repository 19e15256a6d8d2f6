package staffui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	Tenant   string
	Q        string
	Type     string
	Manager  string
	Rows     []tenants.Customer
	Count    int
	Mine     bool
	Pager    pagerData
	CSV      string
	CanEdit  bool
	SortName bool
}

func customersPath(t string) string { return Prefix + "t/" + url.PathEscape(t) + "/customers" }

// customers lists the tenant's customers (a customer manager: only their
// own), searchable by account name, filtered by association type and
// manager, a page at a time.
func (u *UI) customers(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/customers")); err != nil {
		return err
	}
	p, _ := web.PrincipalOf(c)
	d := customersData{Tenant: t, Q: strings.TrimSpace(c.Query("q")), Type: c.Query("type"), Manager: strings.TrimSpace(c.Query("manager")),
		CanEdit: u.allowed(c, http.MethodPut, tenantPath(t, "/customers/x/managers"), t)}
	if d.Type != "" && d.Type != "1" && d.Type != "2" {
		d.Type = ""
	}
	n, _ := strconv.Atoi(c.Query("p"))
	n = max(n, 1)
	q := tenants.Query{AccountName: d.Q, AssociationType: d.Type, Limit: pageSize, Offset: (n - 1) * pageSize}
	if d.Manager != "" {
		q.Managers = []string{d.Manager}
	}
	if !canSeeAll(p, t) {
		q.Managers, d.Mine = []string{p.User}, true
	}
	list, count, err := u.o.Customers.List(c.UserContext(), t, q)
	if err != nil {
		return customerError(err)
	}
	d.Rows, d.Count = list, count
	if c.Query("sort") == "name" {
		d.SortName = true
		slices.SortStableFunc(d.Rows, func(a, b tenants.Customer) int { return strings.Compare(a.DomainName, b.DomainName) })
	}
	page := u.base(c, "customers.title", t)
	link := func(m int) string {
		v := url.Values{}
		for _, k := range []string{"q", "type", "manager", "sort"} {
			if s := c.Query(k); s != "" {
				v.Set(k, s)
			}
		}
		v.Set("p", strconv.Itoa(m))
		return v.Encode()
	}
	var prev, next string
	if n > 1 {
		prev = link(n - 1)
	}
	if n*pageSize < count {
		next = link(n + 1)
	}
	d.Pager = offsetPager(page, prev, next, count)
	csv := url.Values{"format": {"csv"}}
	if d.Q != "" {
		csv.Set("account_name", d.Q)
	}
	if d.Type != "" {
		csv.Set("association_type", d.Type)
	}
	if d.Manager != "" {
		csv.Set("manager", d.Manager)
	}
	d.CSV = adminPrefix + tenantPath(url.PathEscape(t), "/customers") + "?" + csv.Encode()
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
	page.Data = map[string]any{"Tenant": t, "C": cust,
		"CanEdit": u.allowed(c, http.MethodPut, tenantPath(t, "/customers/"+id+"/managers"), t)}
	return u.page(c, "customer", page)
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

// setManagers replaces a customer's managers (one user id per line or
// comma-separated).
func (u *UI) setManagers(c *fiber.Ctx) error {
	t, id := web.Param(c, "tenant"), web.Param(c, "customer")
	if err := u.authorizeAs(c, http.MethodPut, tenantPath(t, "/customers/"+id+"/managers")); err != nil {
		return err
	}
	if _, err := u.visibleCustomer(c, t, id); err != nil {
		return err
	}
	var managers []string
	for _, m := range strings.FieldsFunc(c.FormValue("managers"), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' }) {
		if !slices.Contains(managers, m) {
			managers = append(managers, m)
		}
	}
	where := customersPath(t) + "/" + url.PathEscape(id)
	if _, err := u.o.Customers.SetManagers(c.UserContext(), t, id, managers); err != nil {
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
