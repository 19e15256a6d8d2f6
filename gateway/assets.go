package gateway

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

const (
	assetsPath = pathPrefix + "assets/"
	stylesPath = pathPrefix + "branding/"
)

// AssetSource serves branding images and stylesheets.
type AssetSource interface {
	// OpenImage opens the content-addressed image sha.ext. The error wraps
	// a not-found sentinel (answered 404, see IsNotFound) for unknown or
	// malformed names; anything else is answered 503.
	OpenImage(ctx context.Context, sha, ext string) (rc io.ReadCloser, contentType string, size int64, err error)
	// Stylesheet returns a tenant's stylesheet by file name (versioned,
	// e.g. "7-1a2b3c4d.css"); ok=false when it is not current or unknown.
	Stylesheet(tenant, name string) (css []byte, ok bool)
	// IsNotFound reports whether an OpenImage error means "no such image".
	IsNotFound(err error) bool
}

var imageTypes = map[string]string{"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "svg": "image/svg+xml"}

// assetCSP confines an image opened directly (an SVG cannot run script or
// load anything).
const assetCSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

// serveAsset answers /_livery/assets/<sha256>.<ext>: immutable, nosniff,
// restrictive CSP, streamed from the store.
func serveAsset(src AssetSource) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sha, ext, ok := strings.Cut(c.Params("name"), ".")
		ct, known := imageTypes[ext]
		if !ok || !known || len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
			return Errorf(http.StatusNotFound, "not_found", "No such asset.")
		}
		rc, _, size, err := src.OpenImage(c.UserContext(), sha, ext)
		switch {
		case err != nil && src.IsNotFound(err):
			return Errorf(http.StatusNotFound, "not_found", "No such asset.")
		case err != nil:
			return &Error{Status: http.StatusServiceUnavailable, Code: "assets_unavailable", Message: "The image cannot be served right now.", Err: err}
		}
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderContentSecurityPolicy, assetCSP)
		c.Set(fiber.HeaderETag, strconv.Quote(sha))
		if c.Method() == http.MethodHead {
			rc.Close()
			c.Response().Header.SetContentLength(int(size))
			c.Response().SkipBody = true
			return nil
		}
		c.Context().SetBodyStream(rc, int(size))
		return nil
	}
}

// serveStylesheet answers /_livery/branding/<tenant>/<version>-<hash>.css
// for the host's own tenant only.
func serveStylesheet(src AssetSource) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t := TenantOf(c)
		if t == nil || c.Params("tenant") != t.ID {
			return Errorf(http.StatusNotFound, "not_found", "No such stylesheet.")
		}
		css, ok := src.Stylesheet(t.ID, c.Params("name"))
		if !ok {
			return Errorf(http.StatusNotFound, "not_found", "No such stylesheet.")
		}
		c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Send(css)
	}
}
