package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/authz"
)

// Authorizer decides every admin API call and console request.
type Authorizer interface {
	Authorize(ctx context.Context, s authz.Subject, r authz.Request) (authz.Decision, error)
}

const (
	LocalPrincipal     = "livery.principal"
	LocalPrincipalName = "livery.principal_name"
)

// PrincipalOf returns the authenticated staff subject.
func PrincipalOf(c *fiber.Ctx) (authz.Subject, bool) {
	p, ok := c.Locals(LocalPrincipal).(authz.Subject)
	return p, ok
}

// authorize asks the Authorizer about the admin API call: the tenant is
// the :tenant path parameter, the object the path, the action the method.
func Authorize(a Authorizer) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, ok := PrincipalOf(c)
		if !ok {
			return Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in first.")
		}
		req := authz.Request{Tenant: c.Params("tenant"), Object: c.Path(), Action: c.Method()}
		if err := Decide(c, a, p, req, "You are not allowed to do this."); err != nil {
			return err
		}
		return c.Next()
	}
}

// decide asks a about r for s and maps the outcome: allowed → nil; denied
// (authz.ErrDenied) → 403 with msg; any other failure → 500 (fail closed).
// The decision's reason is logged, never shown.
//
// The path is decided in every form the upstream may resolve it to (see
// authzObjects); each must be allowed.
func Decide(c *fiber.Ctx, a Authorizer, s authz.Subject, r authz.Request, msg string) error {
	objects, ok := authzObjects(r.Object)
	if !ok {
		return Errorf(http.StatusBadRequest, "invalid_path", "The request path is malformed.")
	}
	for _, obj := range objects {
		r.Object = obj
		d, err := a.Authorize(c.UserContext(), s, r)
		switch {
		case err == nil && d.Allowed:
			continue
		case err == nil || errors.Is(err, authz.ErrDenied):
			return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: msg,
				Err: fmt.Errorf("user %q: %s", s.User, d.Reason)}
		default:
			return &Error{Status: http.StatusInternalServerError, Code: "authz_error", Err: err}
		}
	}
	return nil
}

var pathLiterals = strings.NewReplacer("?", "%3F", "#", "%23")

// authzObjects returns the request path as received followed by the forms
// an upstream may resolve it to: percent-decoded (repeatedly, for servers
// that decode twice) and lower-cased (for case-insensitive servers). Policy
// rules are written for plain paths, so "/%61dmin/x" or "/ADMIN/x" must not
// slip past a deny of "/admin/*"; a decoded form that is not canonical
// ("/%2e%2e/admin") is denied by the authorizer. A decoded "?" or "#" is
// part of the path, not a query or fragment, and stays escaped. ok is false
// for a path with a malformed escape, which no upstream would read the same
// way.
func authzObjects(path string) (objects []string, ok bool) {
	add := func(p string) {
		if !slices.Contains(objects, p) {
			objects = append(objects, p)
		}
	}
	add(path)
	cur := path
	for i := 0; i < 3 && strings.Contains(cur, "%"); i++ {
		dec, err := url.PathUnescape(cur)
		if err != nil {
			if i == 0 {
				return nil, false
			}
			break // "%" that is literal after decoding: the earlier forms stand
		}
		if dec == cur {
			break
		}
		cur = dec
		add(pathLiterals.Replace(dec))
	}
	for _, o := range objects {
		if lower := strings.ToLower(o); lower != o {
			add(lower)
		}
	}
	return objects, true
}
