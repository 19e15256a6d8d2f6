// Package openapi holds the OpenAPI 3.1 documents of the API listener's
// machine-facing doors, embedded in the binary and served as JSON:
// the partner API (/v2, partner.json) and the admin API (/admin/v1,
// admin.json). It is a leaf: it imports no other door.
//
// The documents are the contract the tests hold the code to: every route
// under /v2 and /admin/v1 is documented and every documented operation
// exists (gateway's TestOpenAPIRoutes), and real requests and responses
// validate against the schemas (TestOpenAPIExchanges).
package openapi

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// Paths on the API listener where the documents are served (public, no
// authentication: they describe the API, not its data).
const (
	PartnerPath = "/openapi/partner.json"
	AdminPath   = "/openapi/admin.json"
)

var (
	//go:embed partner.json
	partner []byte
	//go:embed admin.json
	admin []byte
)

// Partner returns the partner API's document (a copy).
func Partner() []byte { return append([]byte(nil), partner...) }

// Admin returns the admin API's document (a copy).
func Admin() []byte { return append([]byte(nil), admin...) }

// Mount registers GET PartnerPath and GET AdminPath on r. The answers are
// application/json, cacheable for an hour (the document changes only with
// the binary). It never fails.
func Mount(r fiber.Router) {
	r.Get(PartnerPath, serve(partner))
	r.Get(AdminPath, serve(admin))
}

func serve(doc []byte) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Send(doc)
	}
}
