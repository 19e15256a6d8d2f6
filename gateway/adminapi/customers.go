package adminapi

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Customers is what the admin API needs of the customer registry.
type Customers interface {
	List(ctx context.Context, tenant string, q tenants.Query) ([]tenants.Customer, int, error)
	ByDomainID(ctx context.Context, tenant, domainID string) (*tenants.Customer, error)
	SetManagers(ctx context.Context, tenant, domainID string, managers []string) (*tenants.Customer, error)
}

type adminCustomers struct{ c Customers }

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

// list answers the tenant's customers; a customer manager sees only the
// customers assigned to them.
func (a *adminCustomers) list(c *fiber.Ctx) error {
	p, _ := web.PrincipalOf(c)
	tenant := web.Param(c, "tenant")
	q := tenants.Query{AccountName: c.Query("account_name"), Limit: 20}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return errInvalidRequest.withf("limit must be 1-100")
		}
		q.Limit = n
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidRequest.withf("offset must be 0 or more")
		}
		q.Offset = n
	}
	if !authz.CanSeeCustomer(p, tenant, nil) {
		q.Managers = []string{p.User}
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

// maxManagers is how many customer managers one customer may have.
const maxManagers = 20

// setManagers replaces the customer's managers. The body must be a JSON
// object {"managers": [...]} sent as application/json; the field is
// required ([] clears the assignment, a missing field or null does not).
// Duplicates are dropped. Nothing is written unless the whole body is valid.
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
	managers := make([]string, 0, len(*body.Managers))
	for _, m := range *body.Managers {
		if !slices.Contains(managers, m) {
			managers = append(managers, m)
		}
		if len(managers) > maxManagers {
			return errInvalidRequest.withf("at most %d managers per customer", maxManagers)
		}
	}
	cust, err := a.c.SetManagers(c.UserContext(), web.Param(c, "tenant"), web.Param(c, "customer"), managers)
	if err != nil {
		return customerError(err)
	}
	return c.JSON(fiber.Map{"managers": toAdmin(cust).Managers})
}
