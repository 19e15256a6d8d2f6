package staffui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// The UI's errors are *web.Error whose Code has a catalog entry "err.<code>"
// (see i18n.go): the error page and the flash messages show that text in
// the page's language; Message is the English text for logs and clients
// that are not browsers.

// brandingError maps a workflow error to the UI's error: the expected ones
// (conflict, pending exists, nothing pending, stale, self approval, reason
// required, already live, not found) keep their meaning and status; any
// other error is returned as it is (500, or 503 for the store).
func brandingError(err error) error {
	for _, m := range brandingErrors {
		if errors.Is(err, m.err) {
			return &web.Error{Status: m.status, Code: m.code, Message: tr("en", "err."+m.code), Err: err}
		}
	}
	return err
}

var brandingErrors = []struct {
	err    error
	status int
	code   string
}{
	{workflow.ErrConflict, http.StatusPreconditionFailed, "draft_changed"},
	{workflow.ErrPendingExists, http.StatusConflict, "pending_exists"},
	{workflow.ErrNoPending, http.StatusConflict, "no_pending"},
	{workflow.ErrStale, http.StatusConflict, "stale_submission"},
	{workflow.ErrSelfApproval, http.StatusForbidden, "self_approval"},
	{workflow.ErrReasonRequired, http.StatusBadRequest, "reason_required"},
	{workflow.ErrAlreadyLive, http.StatusConflict, "already_live"},
	{workflow.ErrNotFound, http.StatusNotFound, "not_found"},
	{branding.ErrInvalid, http.StatusUnprocessableEntity, "invalid_document"},
	{workflow.ErrInvalidArgument, http.StatusBadRequest, "invalid_request"},
}

// customerError maps a registry error as brandingError does.
func customerError(err error) error {
	var fe *tenants.FieldError
	var ue *tenants.UnknownStaffError
	switch {
	case errors.As(err, &ue):
		return &web.Error{Status: http.StatusUnprocessableEntity, Code: "unknown_staff", Message: tr("en", "err.unknown_staff"), Err: err}
	case errors.Is(err, tenants.ErrNotFound):
		return &web.Error{Status: http.StatusNotFound, Code: "customer_not_found", Message: tr("en", "err.customer_not_found"), Err: err}
	case errors.Is(err, tenants.ErrUnknownKey):
		return &web.Error{Status: http.StatusNotFound, Code: "unknown_key", Message: tr("en", "err.unknown_key"), Err: err}
	case errors.Is(err, tenants.ErrTooManyKeys):
		return &web.Error{Status: http.StatusConflict, Code: "too_many_keys", Message: tr("en", "err.too_many_keys"), Err: err}
	case errors.As(err, &fe):
		return &web.Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: fe.Field + " " + fe.Reason, Err: err}
	case errors.Is(err, tenants.ErrInvalid):
		return &web.Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: tr("en", "err.invalid_request"), Err: err}
	case errors.Is(err, tenants.ErrForbidden):
		return &web.Error{Status: http.StatusForbidden, Code: "forbidden", Message: tr("en", "err.forbidden"), Err: err}
	}
	return err
}

// back answers a failed form: an expected failure (a *web.Error below 500
// with a catalog text) returns to where with the message as a flash; any
// other error goes to the error page.
func back(c *fiber.Ctx, where string, err error) error {
	var e *web.Error
	if errors.As(err, &e) && e.Status < 500 && hasKey("err."+e.Code) {
		// The query goes before a fragment ("…/acme#reject"), or the
		// server never sees it.
		where, frag, hasFrag := strings.Cut(where, "#")
		sep := "?"
		if strings.Contains(where, "?") {
			sep = "&"
		}
		if hasFrag {
			frag = "#" + frag
		}
		return c.Redirect(where+sep+"err="+url.QueryEscape(e.Code)+frag, http.StatusSeeOther)
	}
	return err
}

// errorFlash is the flash for ?err=<code> (only catalog codes are shown:
// the query string cannot put text on the page).
func errorFlash(c *fiber.Ctx) *flash {
	code := c.Query("err")
	if code == "" || !hasKey("err."+code) {
		return nil
	}
	return &flash{Kind: "error", Text: tr(lang(c), "err."+code)}
}

// errorText is an error's text in the page's language: the catalog's for
// the UI's codes, else the error's own message.
func errorText(l string, e *web.Error) string {
	if hasKey("err." + e.Code) {
		return tr(l, "err."+e.Code)
	}
	return e.Message
}

// errorHint says what to do next after an error with this status.
func errorHint(l string, status int) string {
	switch status {
	case http.StatusForbidden:
		return tr(l, "hint.403")
	case http.StatusNotFound:
		return tr(l, "hint.404")
	case http.StatusUnauthorized:
		return tr(l, "hint.401")
	case http.StatusRequestEntityTooLarge:
		return tr(l, "hint.413")
	}
	if status >= 500 {
		return tr(l, "hint.5xx")
	}
	return tr(l, "hint.4xx")
}

// canSeeAll reports whether p sees every customer of t (not only the ones
// they manage).
func canSeeAll(p authz.Subject, t string) bool { return authz.CanSeeCustomer(p, t, nil) }

func isNotFound(err error) bool { return errors.Is(err, workflow.ErrNotFound) }

func canSeeCustomer(p authz.Subject, t string, managers []string) bool {
	return authz.CanSeeCustomer(p, t, managers)
}
