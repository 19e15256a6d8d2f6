package staffui

import (
	"embed"
	"mime"
	"net/http"
	"path"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
)

//go:embed static/*
var staticFS embed.FS

// staticPrefix is where the stylesheet and the script are served, to
// anyone (they hold nothing secret).
const staticPrefix = Prefix + "static/"

func serveStatic(c *fiber.Ctx) error {
	name := web.Param(c, "name")
	b, err := staticFS.ReadFile("static/" + path.Base(name))
	if err != nil || path.Base(name) != name {
		return web.Errorf(http.StatusNotFound, "not_found", "No such file.")
	}
	c.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(name)))
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(b)
}
