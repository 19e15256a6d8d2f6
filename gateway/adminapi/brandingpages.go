package adminapi

import (
	"errors"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
)

// maxCursor bounds the cursor parameter (the workflow's cursors are far
// shorter).
const maxCursor = 512

// pageOf reads ?cursor= and ?limit= (1 to workflow.MaxPageLimit, default
// workflow.DefaultPageLimit). Errors: 400 invalid_request naming the
// parameter.
func pageOf(c *fiber.Ctx) (workflow.Page, error) {
	p := workflow.Page{Cursor: c.Query("cursor")}
	if len(p.Cursor) > maxCursor {
		return p, errBadCursor()
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > workflow.MaxPageLimit {
			return p, errInvalidRequest.withf("limit must be an integer from 1 to %d (default %d).", workflow.MaxPageLimit, workflow.DefaultPageLimit)
		}
		p.Limit = n
	}
	return p, nil
}

func errBadCursor() error {
	return errInvalidRequest.withf("cursor is invalid: pass the next_cursor of the previous page of this list, or omit it for the first page.")
}

// pageError is brandingError, with workflow.ErrBadCursor as 400
// invalid_request naming the cursor.
func pageError(err error) error {
	if errors.Is(err, workflow.ErrBadCursor) {
		e := errBadCursor().(*web.Error)
		e.Err = err
		return e
	}
	return brandingError(err)
}

var actionRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// auditFilterOf reads ?action= (an event name such as branding.approve),
// ?actor= (a user id) and ?since= / ?until= (RFC 3339; since inclusive,
// until exclusive). Errors: 400 invalid_request naming the parameter.
func auditFilterOf(c *fiber.Ctx) (audit.Filter, error) {
	f := audit.Filter{Action: c.Query("action"), Actor: c.Query("actor")}
	if f.Action != "" && !actionRe.MatchString(f.Action) {
		return f, errInvalidRequest.withf("action must be an audit event name such as %s.", workflow.EventApprove)
	}
	if len(f.Actor) > 256 || !utf8.ValidString(f.Actor) {
		return f, errInvalidRequest.withf("actor must be a user id (at most 256 bytes).")
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := c.Query(t.name)
		if v == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return f, errInvalidRequest.withf("%s must be an RFC 3339 time such as 2026-02-13T09:00:00Z.", t.name)
		}
		*t.dst = at
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, errInvalidRequest.withf("since must be before until.")
	}
	return f, nil
}

// TenantLister lists the configured tenants (tenants.Registry does). The
// overview, GET /branding, is mounted only when Options.Tenants is one.
type TenantLister interface {
	All() []*tenants.Tenant
}

type adminOverview struct {
	r Reviews
	l TenantLister
}

// overview answers every configured tenant's branding state (operators).
func (a *adminOverview) overview(c *fiber.Ctx) error {
	all := a.l.All()
	ids := make([]string, len(all))
	for i, t := range all {
		ids[i] = t.ID
	}
	l, err := a.r.Overview(c.UserContext(), ids)
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(fiber.Map{"tenants": nonNil(l)})
}

// mountOverview registers GET /branding, the operators' overview of every
// tenant, authorized in the platform domain (no tenant) like /reviews.
func mountOverview(v1 fiber.Router, o Options) {
	l, ok := o.Tenants.(TenantLister)
	if o.Reviews == nil || !ok {
		return
	}
	a := &adminOverview{r: o.Reviews, l: l}
	v1.Get("/branding", web.Authorize(o.Authorizer), a.overview)
}
