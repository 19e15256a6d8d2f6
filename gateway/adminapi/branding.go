package adminapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/images"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
)

// BrandingWorkflow is what the admin API needs of the branding workflow.
type BrandingWorkflow interface {
	Draft(ctx context.Context, tenant string) (workflow.Draft, error)
	PutDraft(ctx context.Context, tenant string, doc branding.Document, ifMatch string, a workflow.Actor) (workflow.Draft, error)
	PutImage(ctx context.Context, tenant string, data []byte, a workflow.Actor) (branding.Asset, error)
	Submit(ctx context.Context, tenant string, a workflow.Actor) (workflow.Submission, error)
	Withdraw(ctx context.Context, tenant string, a workflow.Actor) (workflow.Submission, error)
	Submissions(ctx context.Context, tenant string) ([]workflow.Submission, error)
	Queue(ctx context.Context) ([]workflow.Submission, error)
	Review(ctx context.Context, tenant string) (workflow.Review, error)
	Approve(ctx context.Context, tenant, submissionID string, a workflow.Actor, note string) (workflow.Version, error)
	Reject(ctx context.Context, tenant, submissionID string, a workflow.Actor, reason string) (workflow.Submission, error)
	Versions(ctx context.Context, tenant string) ([]workflow.Version, error)
	Rollback(ctx context.Context, tenant string, version int, a workflow.Actor, reason string) (workflow.Version, error)
	Audit(ctx context.Context, tenant string) ([]audit.Record, error)
}

// maxImageUpload bounds a logo upload request (the image limit is 512 KB;
// multipart framing adds a little).
const maxImageUpload = 600 << 10

type adminBranding struct {
	w BrandingWorkflow
}

// actor is the authenticated staff member as the workflow sees them.
func actor(c *fiber.Ctx) workflow.Actor {
	p, _ := web.PrincipalOf(c)
	return workflow.Actor{User: p.User, Roles: p.Roles, Tenant: p.Tenant}
}

// brandingErrors answers h's errors through brandingError.
func brandingErrors(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error { return brandingError(h(c)) }
}

// brandingError maps workflow and validation errors to API errors.
func brandingError(err error) error {
	var ve *branding.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		return &web.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_branding",
			Message:  "The branding document is invalid: " + strings.TrimPrefix(ve.Error(), "branding: invalid document: "),
			Problems: ve.Problems}
	case errors.Is(err, workflow.ErrNotFound):
		return web.Errorf(http.StatusNotFound, "not_found", "%s", userMessage(err))
	case errors.Is(err, workflow.ErrConflict):
		return web.Errorf(http.StatusPreconditionFailed, "draft_changed", "The draft was changed by someone else: reload it (GET returns the current ETag) and apply your change again.")
	case errors.Is(err, workflow.ErrPendingExists):
		return web.Errorf(http.StatusConflict, "pending_exists", "A submission is already pending review; withdraw it first or wait for the decision.")
	case errors.Is(err, workflow.ErrNoPending):
		return web.Errorf(http.StatusConflict, "no_pending", "No submission is pending review.")
	case errors.Is(err, workflow.ErrStale):
		return web.Errorf(http.StatusConflict, "stale_submission", "This submission is no longer the one pending review; reload the queue.")
	case errors.Is(err, workflow.ErrSelfApproval):
		return web.Errorf(http.StatusForbidden, "self_approval", "A submission must be approved by someone who neither submitted it nor edited its draft since the last approval.")
	case errors.Is(err, workflow.ErrReasonRequired):
		return web.Errorf(http.StatusBadRequest, "reason_required", "A reason of 1 to %d characters is required.", workflow.MaxReasonRunes)
	case errors.Is(err, workflow.ErrAlreadyLive):
		return web.Errorf(http.StatusConflict, "already_live", "That version is already live.")
	case errors.Is(err, workflow.ErrInvalidArgument):
		return web.Errorf(http.StatusBadRequest, "bad_request", "%s", userMessage(err))
	}
	if isImageRefusal(err) {
		return web.Errorf(http.StatusUnprocessableEntity, "invalid_image", "%s", userMessage(err))
	}
	return err // 500, cause logged
}

// userMessage strips the package prefix from an error meant for the user.
func userMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"branding workflow: ", "image: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

// decodeJSONBody decodes an application/json body strictly (see
// decodeStrict) into v; refusals name the field.
func decodeJSONBody(c *fiber.Ctx, v any) error {
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != fiber.MIMEApplicationJSON {
		return web.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as Content-Type: application/json.")
	}
	if err := web.DecodeStrict(c.Body(), v); err != nil {
		var fe *tenants.FieldError
		if errors.As(err, &fe) {
			return web.Errorf(http.StatusBadRequest, "bad_json", "%s %s.", fe.Field, fe.Reason)
		}
		return web.Errorf(http.StatusBadRequest, "bad_json", "The body is not valid JSON for this request.")
	}
	return nil
}

// isImageRefusal reports whether err is an image check's refusal.
func isImageRefusal(err error) bool {
	for _, e := range []error{images.ErrTooLarge, images.ErrUnsupportedType, images.ErrUnsafeSVG, images.ErrDimensions, images.ErrCorrupt} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (a *adminBranding) getDraft(c *fiber.Ctx) error {
	d, err := a.w.Draft(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return brandingError(err)
	}
	if d.ETag != "" {
		c.Set(fiber.HeaderETag, strconv.Quote(strings.Trim(d.ETag, `"`)))
	}
	return c.JSON(d)
}

func (a *adminBranding) putDraft(c *fiber.Ctx) error {
	var doc branding.Document
	if err := decodeJSONBody(c, &doc); err != nil {
		return err
	}
	ifMatch := strings.Trim(c.Get(fiber.HeaderIfMatch), `"`)
	if ifMatch == "*" {
		return web.Errorf(http.StatusBadRequest, "bad_request", "If-Match must be the draft's ETag (omit it to create the first draft).")
	}
	d, err := a.w.PutDraft(c.UserContext(), web.Param(c, "tenant"), doc, ifMatch, actor(c))
	if err != nil {
		return brandingError(err)
	}
	c.Set(fiber.HeaderETag, strconv.Quote(strings.Trim(d.ETag, `"`)))
	return c.JSON(d)
}

func (a *adminBranding) postImage(c *fiber.Ctx) error {
	if len(c.Body()) > maxImageUpload {
		return web.Errorf(http.StatusRequestEntityTooLarge, "too_large", "Images are limited to 512 KB.")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return web.Errorf(http.StatusBadRequest, "bad_request", "Send the image as multipart/form-data in the field \"file\".")
	}
	f, err := fh.Open()
	if err != nil {
		return web.Errorf(http.StatusBadRequest, "bad_request", "The uploaded file could not be read.")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImageUpload+1))
	if err != nil {
		return web.Errorf(http.StatusBadRequest, "bad_request", "The uploaded file could not be read.")
	}
	asset, err := a.w.PutImage(c.UserContext(), web.Param(c, "tenant"), data, actor(c))
	if err != nil {
		return brandingError(err)
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"asset": asset,
		"url": web.AssetsPath + asset.SHA256 + "." + asset.Ext})
}

func (a *adminBranding) submit(c *fiber.Ctx) error {
	s, err := a.w.Submit(c.UserContext(), web.Param(c, "tenant"), actor(c))
	if err != nil {
		return brandingError(err)
	}
	return c.Status(http.StatusCreated).JSON(s)
}

func (a *adminBranding) withdraw(c *fiber.Ctx) error {
	s, err := a.w.Withdraw(c.UserContext(), web.Param(c, "tenant"), actor(c))
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(s)
}

func (a *adminBranding) submissions(c *fiber.Ctx) error {
	l, err := a.w.Submissions(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(fiber.Map{"submissions": nonNil(l)})
}

func (a *adminBranding) versions(c *fiber.Ctx) error {
	l, err := a.w.Versions(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(fiber.Map{"versions": nonNil(l)})
}

func (a *adminBranding) audit(c *fiber.Ctx) error {
	l, err := a.w.Audit(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(fiber.Map{"records": nonNil(l)})
}

func (a *adminBranding) rollback(c *fiber.Ctx) error {
	var body struct {
		Version int    `json:"version"`
		Reason  string `json:"reason"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.Version < 1 {
		return web.Errorf(http.StatusBadRequest, "bad_request", "version must be a positive version number.")
	}
	v, err := a.w.Rollback(c.UserContext(), web.Param(c, "tenant"), body.Version, actor(c), body.Reason)
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(v)
}

func (a *adminBranding) queue(c *fiber.Ctx) error {
	l, err := a.w.Queue(c.UserContext())
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(fiber.Map{"submissions": nonNil(l)})
}

func (a *adminBranding) review(c *fiber.Ctx) error {
	r, err := a.w.Review(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(r)
}

type decisionBody struct {
	SubmissionID string `json:"submission_id"`
	Note         string `json:"note"`
	Reason       string `json:"reason"`
}

func (a *adminBranding) approve(c *fiber.Ctx) error {
	var body decisionBody
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.SubmissionID == "" {
		return web.Errorf(http.StatusBadRequest, "bad_request", "submission_id is required (the id of the submission you reviewed).")
	}
	v, err := a.w.Approve(c.UserContext(), web.Param(c, "tenant"), body.SubmissionID, actor(c), body.Note)
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(v)
}

func (a *adminBranding) reject(c *fiber.Ctx) error {
	var body decisionBody
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.SubmissionID == "" {
		return web.Errorf(http.StatusBadRequest, "bad_request", "submission_id is required (the id of the submission you reviewed).")
	}
	s, err := a.w.Reject(c.UserContext(), web.Param(c, "tenant"), body.SubmissionID, actor(c), body.Reason)
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(s)
}

func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}
