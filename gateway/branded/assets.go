package branded

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
)

const (
	stylesPath = web.LiveryPrefix + "branding/"
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
// restrictive CSP. Images up to assetCacheMaxEntry are read whole, checked
// against their name (the SHA-256 of the body must be the name: a damaged
// object is refused, never cached or served under an immutable URL) and
// kept in a bounded in-process cache (assetCache), so logos already served
// keep working while the object store is down. Larger ones are streamed
// from the store. A store that cannot be used is answered 503 (with
// Retry-After, store_unavailable, when the store timed out or is
// unreachable: see toError).
func serveAsset(src AssetSource) fiber.Handler {
	cache := newAssetCache(assetCacheBytes, assetCacheEntries)
	return func(c *fiber.Ctx) error {
		// Params point into the request buffer, which the next request
		// reuses: the name is kept in the cache, so it is copied.
		name := strings.Clone(c.Params("name"))
		sha, ext, ok := strings.Cut(name, ".")
		ct, known := imageTypes[ext]
		if !ok || !known || len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
			return web.Errorf(http.StatusNotFound, "not_found", "No such asset.")
		}
		if body, ok := cache.get(name); ok {
			return sendAsset(c, ct, sha, body)
		}
		rc, _, size, err := src.OpenImage(c.UserContext(), sha, ext)
		switch {
		case err != nil && src.IsNotFound(err):
			return web.Errorf(http.StatusNotFound, "not_found", "No such asset.")
		case err != nil:
			return assetsUnavailable(err)
		}
		if size < 0 || size > assetCacheMaxEntry {
			setAssetHeaders(c, ct, sha)
			if c.Method() == http.MethodHead {
				rc.Close()
				c.Response().Header.SetContentLength(int(size))
				c.Response().SkipBody = true
				return nil
			}
			c.Context().SetBodyStream(rc, int(size))
			return nil
		}
		body, err := io.ReadAll(io.LimitReader(rc, size+1))
		rc.Close()
		if err != nil {
			return assetsUnavailable(fmt.Errorf("reading image %s: %w", name, err))
		}
		if sum := sha256.Sum256(body); int64(len(body)) != size || hex.EncodeToString(sum[:]) != sha {
			return &web.Error{Status: http.StatusInternalServerError, Code: "asset_corrupt", Message: "The image cannot be served.",
				Err: fmt.Errorf("image %s: stored content (%d bytes, %d expected) does not match its name", name, len(body), size)}
		}
		cache.add(name, body)
		return sendAsset(c, ct, sha, body)
	}
}

func assetsUnavailable(err error) *web.Error {
	return &web.Error{Status: http.StatusServiceUnavailable, Code: "assets_unavailable", Message: "The image cannot be served right now.", Err: err}
}

func setAssetHeaders(c *fiber.Ctx, ct, sha string) {
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, assetCSP)
	c.Set(fiber.HeaderETag, strconv.Quote(sha))
}

// sendAsset answers with a whole (verified, immutable) image body.
func sendAsset(c *fiber.Ctx, ct, sha string, body []byte) error {
	setAssetHeaders(c, ct, sha)
	if c.Method() == http.MethodHead {
		c.Response().Header.SetContentLength(len(body))
		c.Response().SkipBody = true
		return nil
	}
	return c.Send(body)
}

// serveStylesheet answers /_livery/branding/<tenant>/<version>-<hash>.css
// for the host's own tenant only.
func serveStylesheet(src AssetSource) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t := web.TenantOf(c)
		if t == nil || c.Params("tenant") != t.ID {
			return web.Errorf(http.StatusNotFound, "not_found", "No such stylesheet.")
		}
		css, ok := src.Stylesheet(t.ID, c.Params("name"))
		if !ok {
			return web.Errorf(http.StatusNotFound, "not_found", "No such stylesheet.")
		}
		c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Send(css)
	}
}

// Images opens stored logos; *workflow.Service implements it.
type Images interface {
	OpenImage(ctx context.Context, sha, ext string) (io.ReadCloser, string, int64, error)
}

// WorkflowAssets is the AssetSource of a running Livery: logos from the
// branding workflow's store, stylesheets from the chrome that rendered
// them.
type WorkflowAssets struct {
	Images Images
	Chrome *Chrome
}

// OpenImage implements AssetSource.
func (a WorkflowAssets) OpenImage(ctx context.Context, sha, ext string) (io.ReadCloser, string, int64, error) {
	return a.Images.OpenImage(ctx, sha, ext)
}

// Stylesheet implements AssetSource.
func (a WorkflowAssets) Stylesheet(tenant, name string) ([]byte, bool) {
	return a.Chrome.Stylesheet(tenant, name)
}

// IsNotFound implements AssetSource: the workflow's not-found sentinel.
func (WorkflowAssets) IsNotFound(err error) bool { return errors.Is(err, workflow.ErrNotFound) }
