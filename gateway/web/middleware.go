package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/tenants"
)

// StatusClientClosedRequest is recorded (never sent) when the client went
// away before the exchange completed, so it is not counted as a server error.
const StatusClientClosedRequest = 499

const (
	LocalRequestID = "livery.request_id"
	LocalTenant    = "livery.tenant"
	LocalAborted   = "livery.client_aborted"
	LocalSession   = "livery.session"
	LocalPreview   = "livery.preview"
	// LocalDelegation holds the *exchange.Delegation of a delegated
	// session whose request passed the delegation checks.
	LocalDelegation = "livery.delegation"
)

// TenantResolver finds the tenant serving a console host.
type TenantResolver interface {
	ByHost(host string) (*tenants.Tenant, bool)
}

// Recover turns a panic into a logged 500 answered by the error mapper.
func Recover(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error { return nextRecovering(log, c) }
}

// nextRecovering runs the rest of the chain, converting a panic into an
// error (logged with its stack) so that it is answered and logged like any
// other failure. The access log uses it too, so panicking requests are
// logged and counted.
func nextRecovering(log *slog.Logger, c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic", "request_id", RequestIDOf(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// RequestIDMiddleware accepts a well-formed inbound X-Request-Id or makes a
// new one, and echoes it on the response.
func RequestIDMiddleware(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !validRequestID(id) {
		id = NewRequestID()
	}
	c.Locals(LocalRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// validRequestID accepts 8–128 characters of [A-Za-z0-9._:-].
func validRequestID(id string) bool {
	if len(id) < 8 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
			ch == '.' || ch == '_' || ch == ':' || ch == '-') {
			return false
		}
	}
	return true
}

// newRequestID returns 32 hex digits: a random prefix drawn once per
// process, then a per-process counter. Ids are unique across instances
// (the prefix) and within one (the counter) without reading the random
// source per request. They are correlation ids, not secrets: a request id
// is echoed to the client and must never authorize anything.
func NewRequestID() string {
	var b [32]byte
	copy(b[:16], requestIDPrefix[:])
	n := requestIDSeq.Add(1)
	for i := 31; i >= 16; i-- {
		b[i] = hexDigits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

var (
	requestIDPrefix = func() (p [16]byte) {
		var r [8]byte
		_, _ = rand.Read(r[:]) // crypto/rand.Read does not fail (it crashes the program instead)
		hex.Encode(p[:], r[:])
		return p
	}()
	requestIDSeq atomic.Uint64
)

// RandomID returns 32 random hex digits (for unguessable ids such as an
// assertion's jti).
func RandomID() string { return ids.Hex(16) }

func RequestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(LocalRequestID).(string)
	return id
}

// TenantOf returns the tenant resolved for the request, if any.
func TenantOf(c *fiber.Ctx) *tenants.Tenant {
	t, _ := c.Locals(LocalTenant).(*tenants.Tenant)
	return t
}

// AccessLog writes one JSON log line and the request metrics per request.
// Errors are answered here (through the mapper) so the logged status is the
// one the client receives.
func AccessLog(log *slog.Logger, metrics *Metrics, listener string, mapErr fiber.ErrorHandler) fiber.Handler {
	// The listener attribute is formatted once, not per line.
	h := log.Handler().WithAttrs([]slog.Attr{slog.String("listener", listener)})
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := nextRecovering(log, c)
		if err != nil {
			if herr := mapErr(c, err); herr != nil {
				log.Error("error handler failed", "err", herr)
				c.Status(http.StatusInternalServerError)
			}
		}
		status := c.Response().StatusCode()
		if aborted, _ := c.Locals(LocalAborted).(bool); aborted {
			status = StatusClientClosedRequest
		}
		tenantID := "-"
		if t := TenantOf(c); t != nil {
			tenantID = t.ID
		}
		end := time.Now()
		elapsed := end.Sub(start)
		metrics.ObserveRequest(listener, tenantID, status, elapsed)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelWarn
		}
		// The query string is not logged: it may carry codes or tokens.
		// The record goes to the handler directly: an access line has no
		// meaningful source location, and capturing one costs a stack walk
		// per request.
		ctx := c.UserContext()
		if h.Enabled(ctx, level) {
			r := slog.NewRecord(end, level, "request", 0)
			r.AddAttrs(
				slog.String("request_id", RequestIDOf(c)),
				slog.String("tenant", tenantID),
				slog.String("method", c.Method()),
				slog.String("host", c.Hostname()),
				slog.String("path", c.Path()),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("remote", c.Context().RemoteIP().String()),
			)
			_ = h.Handle(ctx, r) // a failed log write must not fail the request
		}
		return nil
	}
}

// TenantMiddleware resolves the tenant from the Host header (or the
// authority of an absolute-form request target, which takes its place). A
// malformed host (userinfo, spaces, an empty port, ...; see checkHost) is
// answered 400 bad_host; an unknown host gets a clear 404 page.
func TenantMiddleware(tenants TenantResolver) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := CheckHost(&c.Request().Header); err != nil {
			return err
		}
		host := string(c.Request().Host())
		t, ok := tenants.ByHost(host)
		if !ok {
			return Errorf(http.StatusNotFound, "unknown_host",
				"No console is configured for the host %q. Check the address you followed.", Truncate(host, 100))
		}
		c.Locals(LocalTenant, t)
		return c.Next()
	}
}

// SuspendedMiddleware (console, after TenantMiddleware and
// CanonicalPathMiddleware) answers every request of a suspended tenant 403
// service_suspended — a page in the tenant's chrome for browsers — except
// the paths starting with one of pass (what that page itself loads).
func SuspendedMiddleware(pass ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if t := TenantOf(c); t == nil || !t.Suspended {
			return c.Next()
		}
		for _, p := range pass {
			if strings.HasPrefix(c.Path(), p) {
				return c.Next()
			}
		}
		return Errorf(http.StatusForbidden, "service_suspended",
			"This console's service is suspended. Please contact your service provider. / 该控制台的服务已暂停，请联系您的服务商。")
	}
}

// CanonicalPathMiddleware (console) replaces the request path by its
// canonical form (canonicalPath) before anything else reads it; a path
// without one is answered 400 bad_path and goes no further.
func CanonicalPathMiddleware(c *fiber.Ctx) error {
	p := c.Path()
	canon, err := CanonicalPath(p)
	if err != nil {
		return pathRefused(err)
	}
	if canon != p {
		c.Path(canon) // routing continues on the canonical path (see chain)
	}
	return c.Next()
}

// ConsolePath returns the request's canonical path, or the 400 bad_path
// error. After canonicalPathMiddleware it is c.Path() itself, checked again
// without allocating, so that what is authorized and what is proxied are
// the same value however the handlers are wired.
func ConsolePath(c *fiber.Ctx) (string, error) {
	p, err := CanonicalPath(c.Path())
	if err != nil {
		return "", pathRefused(err)
	}
	return p, nil
}

// pathRefused is the answer to a path without a canonical form.
func pathRefused(err error) error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_path",
		Message: "The request path was refused because " + err.Error() + ". Check the address you followed."}
}

func Truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
