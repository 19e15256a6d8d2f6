package partnerapi

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
)

// Stats counts the partner API's requests per tenant for the partner
// admins' request summary (apistats.Stats). Record must return quickly
// and never fails a request; code is the code the client received ("" for
// success).
type Stats interface {
	Record(ctx context.Context, tenant, op, code string)
}

// record tells stats of one answered request whose tenant is known (its
// key authenticated); requests refused before that are not any tenant's.
func record(stats Stats, c *fiber.Ctx, op, code string) {
	if stats == nil {
		return
	}
	t := web.TenantOf(c)
	if t == nil {
		return
	}
	if code == "none" {
		code = ""
	}
	stats.Record(c.UserContext(), t.ID, op, code)
}
