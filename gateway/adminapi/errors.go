package adminapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/images"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/records"
)

// errorCode is one row of the admin API's error table: the error_code a
// client sees, its status and its default message.
type errorCode struct {
	status  int
	code    string
	message string
	// retryAfter, when positive, is sent as Retry-After (seconds).
	retryAfter int
}

// The admin API's error table: every error_code its handlers answer. One
// mistake has one code wherever it is made: a missing or invalid field or
// query parameter is invalid_request, a body that is not well-formed JSON
// of the expected shape is bad_json, a body of the wrong media type is
// unsupported_media_type, a tenant that is not configured is
// unknown_tenant.
//
// Raised in front of the handlers, by the sign-in door and web:
// unauthenticated (401), cross_origin, no_role and forbidden (403);
// store_unavailable (503) replaces any 5xx whose cause is the object store.
// The preview leaf's preview_unavailable (503) is answered as it is.
var (
	errInvalidRequest       = errorCode{status: http.StatusBadRequest, code: "invalid_request", message: "The request is invalid."}
	errBadJSON              = errorCode{status: http.StatusBadRequest, code: "bad_json", message: "The body is not valid JSON for this request."}
	errForbidden            = errorCode{status: http.StatusForbidden, code: "forbidden", message: "Access denied."}
	errSelfApproval         = errorCode{status: http.StatusForbidden, code: "self_approval", message: "A submission must be approved by someone who neither submitted it nor edited its draft since the last approval."}
	errUnknownTenant        = errorCode{status: http.StatusNotFound, code: "unknown_tenant", message: "No such tenant is configured."}
	errNotFound             = errorCode{status: http.StatusNotFound, code: "not_found", message: "Not found."}
	errPendingExists        = errorCode{status: http.StatusConflict, code: "pending_exists", message: "A submission is already pending review; withdraw it first or wait for the decision."}
	errNoPending            = errorCode{status: http.StatusConflict, code: "no_pending", message: "No submission is pending review."}
	errStaleSubmission      = errorCode{status: http.StatusConflict, code: "stale_submission", message: "This submission is no longer the one pending review; reload the queue."}
	errAlreadyLive          = errorCode{status: http.StatusConflict, code: "already_live", message: "That version is already live."}
	errDraftChanged         = errorCode{status: http.StatusPreconditionFailed, code: "draft_changed", message: "The draft was changed by someone else: reload it (GET returns the current ETag) and apply your change again."}
	errTooLarge             = errorCode{status: http.StatusRequestEntityTooLarge, code: "too_large", message: "The upload is too large."}
	errUnsupportedMediaType = errorCode{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", message: "Send the body as Content-Type: application/json."}
	errInvalidBranding      = errorCode{status: http.StatusUnprocessableEntity, code: "invalid_branding", message: "The branding document is invalid."}
	errInvalidImage         = errorCode{status: http.StatusUnprocessableEntity, code: "invalid_image", message: "The image cannot be used."}
	errUnavailable          = errorCode{status: http.StatusServiceUnavailable, code: "unavailable", message: "The service is temporarily unavailable. Retry later.", retryAfter: 5}
	// Customers' managers, staff and access keys.
	errUnknownStaff = errorCode{status: http.StatusUnprocessableEntity, code: "unknown_staff", message: "A manager must be a staff member of the tenant who has signed in at least once."}
	errTooManyKeys  = errorCode{status: http.StatusConflict, code: "too_many_keys", message: "The tenant already has the maximum number of active access keys: revoke one first."}
	// Delegated operations (delegations.go, delegationError).
	errReferralCustomer  = errorCode{status: http.StatusUnprocessableEntity, code: "referral_customer", message: "Delegated operations are only for resale customers."}
	errAgreementRequired = errorCode{status: http.StatusConflict, code: "agreement_required", message: "The delegated-operation agreement must be accepted first (POST .../delegation-agreement)."}
	errAgreementVersion  = errorCode{status: http.StatusConflict, code: "agreement_version", message: "That is not the current agreement version."}
	errDelegationPending = errorCode{status: http.StatusConflict, code: "delegation_pending", message: "The customer already has a pending request: withdraw it or wait for the answer."}
	errDelegationActive  = errorCode{status: http.StatusConflict, code: "delegation_active", message: "The customer already has an active grant: a new request must name it in replaces."}
	errGrantState        = errorCode{status: http.StatusConflict, code: "grant_state", message: "The grant's state does not allow this."}
	// Customer association (invitations.go, associationError); the
	// messages are the association reasons' (en / zh).
	errInvitationState = errorCode{status: http.StatusConflict, code: "association_state", message: "Not allowed in the current state."}
	errChangePending   = errorCode{status: http.StatusConflict, code: "change_pending", message: "A change is already awaiting the customer's confirmation."}
	errSameType        = errorCode{status: http.StatusConflict, code: "same_type", message: "The customer already has this association type."}
	errTooSoon         = errorCode{status: http.StatusConflict, code: "too_soon", message: "At most one change per customer every three months."}
)

// new is the error with the default message.
func (e errorCode) new() *web.Error {
	return &web.Error{Status: e.status, Code: e.code, Message: e.message, RetryAfter: e.retryAfter}
}

// withf is the error with its own message, shown to the client.
func (e errorCode) withf(format string, args ...any) *web.Error {
	w := e.new()
	w.Message = fmt.Sprintf(format, args...)
	return w
}

// wrap is the error with its cause (logged for 5xx, never sent) and msg,
// or the default message when msg is empty.
func (e errorCode) wrap(cause error, msg string) *web.Error {
	w := e.new()
	w.Err = cause
	if msg != "" {
		w.Message = msg
	}
	return w
}

// customerError translates an error of the customer registry: see
// domainError; anything else is 503 unavailable (the store or index
// failed; the cause is logged).
func customerError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := partnerError(err); ok {
		return e
	}
	if e, ok := domainError(err); ok {
		return e
	}
	return errUnavailable.wrap(err, "")
}

// brandingError translates an error of the branding workflow: see
// domainError; anything else is returned as it is (500 with the cause
// logged, or store_unavailable).
func brandingError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := domainError(err); ok {
		return e
	}
	return err
}

// previewErrors answers the errors of h, the preview leaf's handler,
// through the table: its refusal of the query (400) is invalid_request,
// the workflow's errors go through brandingError.
func previewErrors(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := h(c)
		var we *web.Error
		if errors.As(err, &we) && we.Status == http.StatusBadRequest {
			return errInvalidRequest.wrap(err, we.Message)
		}
		return brandingError(err)
	}
}

// domainError is the admin API's table for domain errors; it reports false
// for errors it does not know.
//
//   - tenants.FieldError, tenants.ErrInvalid, workflow.ErrInvalidArgument,
//     workflow.ErrReasonRequired: 400 invalid_request, naming the field;
//   - tenants.ErrForbidden: 403 forbidden; workflow.ErrSelfApproval: 403
//     self_approval;
//   - workflow.ErrNotFound: 404 not_found;
//   - workflow.ErrConflict: 412 draft_changed;
//   - workflow.ErrPendingExists, ErrNoPending, ErrStale, ErrAlreadyLive:
//     409 pending_exists, no_pending, stale_submission, already_live;
//   - branding.ValidationError: 422 invalid_branding with the problems;
//   - images.ErrTooLarge: 413 too_large; the other image refusals: 422
//     invalid_image.
func domainError(err error) (*web.Error, bool) {
	var fe *tenants.FieldError
	var ve *branding.ValidationError
	switch {
	case errors.As(err, &fe):
		msg := fe.Error()
		if fe.Field == "" {
			msg = "body: must be a JSON object" // a type error at the top level
		}
		return errInvalidRequest.wrap(err, msg), true
	case errors.Is(err, tenants.ErrInvalid):
		return errInvalidRequest.wrap(err, ""), true
	case errors.Is(err, tenants.ErrForbidden):
		return errForbidden.wrap(err, ""), true
	case errors.As(err, &ve):
		e := errInvalidBranding.wrap(err, strings.TrimSuffix(errInvalidBranding.message, ".")+": "+
			strings.TrimPrefix(ve.Error(), "branding: invalid document: "))
		e.Problems = ve.Problems
		return e, true
	case errors.Is(err, workflow.ErrNotFound):
		return errNotFound.wrap(err, userMessage(err)), true
	case errors.Is(err, workflow.ErrConflict):
		return errDraftChanged.wrap(err, ""), true
	case errors.Is(err, workflow.ErrPendingExists):
		return errPendingExists.wrap(err, ""), true
	case errors.Is(err, workflow.ErrNoPending):
		return errNoPending.wrap(err, ""), true
	case errors.Is(err, workflow.ErrStale):
		return errStaleSubmission.wrap(err, ""), true
	case errors.Is(err, workflow.ErrSelfApproval):
		return errSelfApproval.wrap(err, ""), true
	case errors.Is(err, workflow.ErrReasonRequired):
		return errInvalidRequest.wrap(err, fmt.Sprintf("reason is required: 1 to %d characters.", workflow.MaxReasonRunes)), true
	case errors.Is(err, workflow.ErrAlreadyLive):
		return errAlreadyLive.wrap(err, ""), true
	case errors.Is(err, workflow.ErrInvalidArgument):
		return errInvalidRequest.wrap(err, userMessage(err)), true
	case errors.Is(err, images.ErrTooLarge):
		return errTooLarge.wrap(err, userMessage(err)), true
	case isImageRefusal(err):
		return errInvalidImage.wrap(err, userMessage(err)), true
	}
	return nil, false
}

// isImageRefusal reports whether err is an image check's refusal (other
// than its size).
func isImageRefusal(err error) bool {
	for _, e := range []error{images.ErrUnsupportedType, images.ErrUnsafeSVG, images.ErrDimensions, images.ErrCorrupt} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// userMessage strips the package prefix from an error meant for the user.
func userMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"branding workflow: ", "image: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

// Codes is the admin door's code table for errors raised on its paths
// before a handler runs (a body over the listener's limit, an unknown
// path): the same codes as the handlers'. The route table registers it
// with the API listener's error writer.
var Codes = web.CodeTable{Prefix: Prefix + "/", Translate: func(e *web.Error) {
	if e.Code != web.CodeForStatus(e.Status) {
		return // a code of this door's own, or of the sign-in door
	}
	switch e.Status {
	case http.StatusRequestEntityTooLarge:
		e.Code, e.Message = errTooLarge.code, "The request body is too large."
	case http.StatusBadRequest:
		e.Code = errInvalidRequest.code
	}
}}

// keyError translates an error of the access keys: see partnerError;
// anything else is 503 unavailable (the cause is logged).
func keyError(err error) error { return customerError(err) }

// partnerError is the table for the partner domain's errors of the
// customer list, manager assignment, staff directory and access keys; it
// reports false for errors it does not know:
//
//   - tenants.UnknownStaffError: 422 unknown_staff naming the ids;
//   - tenants.ErrNotFound: 404 not_found (no such customer);
//   - tenants.ErrUnknownKey: 404 not_found (no such access key);
//   - tenants.ErrTooManyKeys: 409 too_many_keys.
func partnerError(err error) (*web.Error, bool) {
	var us *tenants.UnknownStaffError
	switch {
	case errors.As(err, &us):
		ids := make([]string, len(us.IDs))
		for i, id := range us.IDs {
			ids[i] = fmt.Sprintf("%q", web.Truncate(id, 64))
		}
		return errUnknownStaff.wrap(err, fmt.Sprintf("managers: not a staff member of tenant %s: %s. %s", us.Tenant,
			strings.Join(ids, ", "), "Staff appear in GET .../staff once they have signed in.")), true
	case errors.Is(err, tenants.ErrNotFound):
		return errNotFound.wrap(err, "No such customer."), true
	case errors.Is(err, tenants.ErrUnknownKey):
		return errNotFound.wrap(err, "No such access key."), true
	case errors.Is(err, tenants.ErrTooManyKeys):
		return errTooManyKeys.wrap(err, fmt.Sprintf("The tenant already has %d active access keys (the maximum): revoke one first.", tenants.MaxActiveKeys)), true
	}
	return nil, false
}

// Tenant records (tenants.go, recordError).
var (
	errPreconditionRequired = errorCode{status: http.StatusPreconditionRequired, code: "precondition_required", message: "If-Match is required: send the tenant's ETag (its version, from GET) so that a concurrent change is not overwritten."}
	errTenantChanged        = errorCode{status: http.StatusPreconditionFailed, code: "tenant_changed", message: "The tenant was changed by someone else: reload it (current_version and the ETag give its version) and apply your change again."}
	errHostConflict         = errorCode{status: http.StatusConflict, code: "host_conflict", message: "A console host is already used by another tenant."}
	errTenantExists         = errorCode{status: http.StatusConflict, code: "tenant_exists", message: "A tenant with this id already exists."}
)

// recordError translates an error of the tenant records:
//
//   - records.ValidationError: 400 invalid_request, problems listing every
//     field (field, message, message_zh);
//   - records.HostConflictError: 409 host_conflict naming the host and the
//     tenant that has it (problems: the hosts field);
//   - records.ErrExists: 409 tenant_exists;
//   - records.ErrNotFound: 404 not_found;
//   - records.VersionConflictError: 412 tenant_changed, written here with
//     current_version in the body and the current version as ETag;
//   - anything else: 503 unavailable (the cause is logged).
func recordError(c *fiber.Ctx, err error) error {
	var ve *records.ValidationError
	var hc *records.HostConflictError
	var vc *records.VersionConflictError
	switch {
	case errors.As(err, &ve):
		names := make([]string, len(ve.Fields))
		for i, f := range ve.Fields {
			names[i] = f.Field
		}
		e := errInvalidRequest.wrap(err, "The tenant is invalid: "+strings.Join(names, ", ")+" (see problems).")
		e.Problems = ve.Fields
		return e
	case errors.As(err, &hc):
		e := errHostConflict.wrap(err, fmt.Sprintf("hosts: %q is already used by tenant %q. / 主机名 %q 已被租户 %q 使用。", hc.Host, hc.Other, hc.Host, hc.Other))
		e.Problems = []records.FieldError{{Field: "hosts", Msg: fmt.Sprintf("%q is already used by tenant %q", hc.Host, hc.Other),
			MsgZH: fmt.Sprintf("%q 已被租户 %q 使用", hc.Host, hc.Other)}}
		return e
	case errors.Is(err, records.ErrExists):
		return errTenantExists.wrap(err, "")
	case errors.Is(err, records.ErrNotFound):
		return errNotFound.wrap(err, "No such tenant.")
	case errors.As(err, &vc):
		c.Set(fiber.HeaderETag, strconv.Quote(strconv.FormatInt(vc.Current, 10)))
		return c.Status(errTenantChanged.status).JSON(struct {
			web.ErrorBody
			CurrentVersion int64 `json:"current_version"`
		}{web.ErrorBody{Code: errTenantChanged.code, Message: errTenantChanged.message, RequestID: web.RequestIDOf(c)}, vc.Current})
	}
	return errUnavailable.wrap(err, "")
}
