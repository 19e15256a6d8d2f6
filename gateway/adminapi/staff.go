package adminapi

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Staff is what the admin API needs of the staff directory
// (tenants.StaffDirectory).
type Staff interface {
	List(ctx context.Context, tenant string) ([]tenants.StaffMember, error)
}

type adminStaff struct{ s Staff }

type adminStaffMember struct {
	User      string   `json:"user"`
	Name      string   `json:"name"`
	Roles     []string `json:"roles"`
	FirstSeen string   `json:"first_seen"`
	LastSeen  string   `json:"last_seen"`
}

// list answers the tenant's staff directory: everyone who signed in with a
// staff role of the tenant, with their roles.
func (a *adminStaff) list(c *fiber.Ctx) error {
	list, err := a.s.List(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return customerError(err)
	}
	out := make([]adminStaffMember, 0, len(list))
	for _, m := range list {
		roles := m.Roles
		if roles == nil {
			roles = []string{}
		}
		out = append(out, adminStaffMember{User: m.User, Name: m.Name, Roles: roles,
			FirstSeen: m.FirstSeen.UTC().Format(time.RFC3339), LastSeen: m.LastSeen.UTC().Format(time.RFC3339)})
	}
	return c.JSON(fiber.Map{"staff": out})
}

// actorOf is the authenticated staff member of the request, for the audit
// records of the services.
func actorOf(c *fiber.Ctx) tenants.Actor {
	p, _ := web.PrincipalOf(c)
	return tenants.Actor{Subject: p, RequestID: web.RequestIDOf(c), Source: c.Context().RemoteIP().String()}
}
