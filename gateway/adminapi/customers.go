package adminapi

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Customers is what the admin API needs of the customer registry
// (tenants.Customers).
type Customers interface {
	Page(ctx context.Context, tenant string, q tenants.Search) (tenants.Page, error)
	Export(ctx context.Context, tenant string, q tenants.Search) ([]tenants.Customer, bool, error)
	List(ctx context.Context, tenant string, q tenants.Query) ([]tenants.Customer, int, error)
	ByDomainID(ctx context.Context, tenant, domainID string) (*tenants.Customer, error)
}

// Managers assigns customer managers among the tenant's staff, audited
// (tenants.Assignments).
type Managers interface {
	Assign(ctx context.Context, actor tenants.Actor, tenant, domainID string, managers []string) (*tenants.Customer, error)
}

type adminCustomers struct {
	c Customers
	m Managers
}

type adminCustomer struct {
	CustomerID      string   `json:"customer_id"`
	AccountName     string   `json:"account_name"`
	XAccountID      string   `json:"xaccount_id"`
	AssociationType string   `json:"association_type"`
	AssociatedOn    string   `json:"associated_on"`
	Managers        []string `json:"managers"`
}

func toAdmin(c *tenants.Customer) adminCustomer {
	m := c.Managers
	if m == nil {
		m = []string{}
	}
	return adminCustomer{CustomerID: c.DomainID, AccountName: c.DomainName, XAccountID: c.XAccountID,
		AssociationType: c.AssociationType, AssociatedOn: c.AssociatedOn.UTC().Format(time.RFC3339), Managers: m}
}

// list answers the tenant's customers: one page (JSON) or, with
// format=csv, every match up to tenants.MaxExportRows as a CSV attachment.
// A customer manager sees only the customers assigned to them. Filters: q
// (substring of account name, customer id or xaccount id), association_type,
// manager, and the older account_name; paging: cursor and limit (1-100,
// default 20), or the older offset (not with cursor).
func (a *adminCustomers) list(c *fiber.Ctx) error {
	p, _ := web.PrincipalOf(c)
	tenant := web.Param(c, "tenant")
	q := tenants.Search{Q: c.Query("q"), AssociationType: c.Query("association_type"), Manager: c.Query("manager"),
		Cursor: c.Query("cursor")}
	if !authz.CanSeeCustomer(p, tenant, nil) {
		q.Scope = []string{p.User}
	}
	switch f := c.Query("format"); f {
	case "csv":
		return a.export(c, tenant, q)
	case "", "json":
	default:
		return errInvalidRequest.withf(`format must be "json" or "csv"`)
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > tenants.MaxPageSize {
			return errInvalidRequest.withf("limit must be 1-%d", tenants.MaxPageSize)
		}
		q.Limit = n
	}
	if c.Query("offset") != "" || c.Query("account_name") != "" {
		return a.listByOffset(c, p, tenant, q)
	}
	page, err := a.c.Page(c.UserContext(), tenant, q)
	if err != nil {
		return customerError(err)
	}
	out := make([]adminCustomer, 0, len(page.Customers))
	for i := range page.Customers {
		out = append(out, toAdmin(&page.Customers[i]))
	}
	return c.JSON(fiber.Map{"customers": out, "count": page.Total, "next_cursor": page.NextCursor})
}

// listByOffset answers the older form of the list (account_name, offset),
// kept for existing clients: no next_cursor, and it does not combine with
// the new filters.
func (a *adminCustomers) listByOffset(c *fiber.Ctx, p authz.Subject, tenant string, s tenants.Search) error {
	if s.Cursor != "" || s.Q != "" || s.AssociationType != "" || s.Manager != "" {
		return errInvalidRequest.withf("offset and account_name do not combine with cursor, q, association_type or manager")
	}
	q := tenants.Query{AccountName: c.Query("account_name"), Limit: tenants.DefaultPageSize, Managers: s.Scope}
	if s.Limit > 0 {
		q.Limit = s.Limit
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidRequest.withf("offset must be 0 or more")
		}
		q.Offset = n
	}
	list, count, err := a.c.List(c.UserContext(), tenant, q)
	if err != nil {
		return customerError(err)
	}
	out := make([]adminCustomer, 0, len(list))
	for i := range list {
		out = append(out, toAdmin(&list[i]))
	}
	return c.JSON(fiber.Map{"customers": out, "count": count})
}

// export answers the CSV attachment. Cells a spreadsheet would evaluate
// are neutralized (tenants.WriteCustomersCSV). Export-Truncated: true says
// more than tenants.MaxExportRows matched and only the first ones are in it.
func (a *adminCustomers) export(c *fiber.Ctx, tenant string, q tenants.Search) error {
	if c.Query("cursor") != "" || c.Query("limit") != "" || c.Query("offset") != "" {
		return errInvalidRequest.withf("format=csv exports every match: cursor, limit and offset do not apply")
	}
	cs, truncated, err := a.c.Export(c.UserContext(), tenant, q)
	if err != nil {
		return customerError(err)
	}
	var buf bytes.Buffer
	if err := tenants.WriteCustomersCSV(&buf, cs); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="customers-`+tenant+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set("Export-Truncated", strconv.FormatBool(truncated))
	c.Set("Export-Rows", strconv.Itoa(len(cs)))
	return c.Send(buf.Bytes())
}

// customer loads the path's customer, enforcing manager scoping: a
// customer the principal may not see is answered 404, like a missing one.
func (a *adminCustomers) customer(c *fiber.Ctx) (*tenants.Customer, error) {
	p, _ := web.PrincipalOf(c)
	cust, err := a.c.ByDomainID(c.UserContext(), web.Param(c, "tenant"), web.Param(c, "customer"))
	if err != nil {
		return nil, customerError(err)
	}
	if cust == nil || !authz.CanSeeCustomer(p, web.Param(c, "tenant"), cust.Managers) {
		return nil, errNotFound.withf("No such customer.")
	}
	return cust, nil
}

func (a *adminCustomers) get(c *fiber.Ctx) error {
	cust, err := a.customer(c)
	if err != nil {
		return err
	}
	return c.JSON(toAdmin(cust))
}

func (a *adminCustomers) managers(c *fiber.Ctx) error {
	cust, err := a.customer(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"managers": toAdmin(cust).Managers})
}

// setManagers replaces the customer's managers. The body must be a JSON
// object {"managers": [...]} sent as application/json; the field is
// required ([] clears the assignment, a missing field or null does not).
// Duplicates are dropped; a manager newly assigned must be a staff member
// of the tenant (422 unknown_staff naming the ids). Nothing is written
// unless the whole body is valid; the change is audited.
func (a *adminCustomers) setManagers(c *fiber.Ctx) error {
	if _, err := a.customer(c); err != nil {
		return err
	}
	var body struct {
		Managers *[]string `json:"managers"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.Managers == nil {
		return errInvalidRequest.withf(`managers is required: a JSON array of user ids ([] removes every manager)`)
	}
	cust, err := a.m.Assign(c.UserContext(), actorOf(c), web.Param(c, "tenant"), web.Param(c, "customer"), *body.Managers)
	if err != nil {
		return customerError(err)
	}
	return c.JSON(fiber.Map{"managers": toAdmin(cust).Managers})
}
