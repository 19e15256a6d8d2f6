package adminapi

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
)

// Drafts is what the draft editor needs of the branding workflow.
type Drafts interface {
	Draft(ctx context.Context, tenant string) (workflow.Draft, error)
	PutDraft(ctx context.Context, tenant string, doc branding.Document, ifMatch string, a authz.Subject) (workflow.Draft, error)
	PutImage(ctx context.Context, tenant string, data []byte, a authz.Subject) (branding.Asset, error)
}

// Submissions is what submitting a draft for review needs of the branding
// workflow.
type Submissions interface {
	Submit(ctx context.Context, tenant string, a authz.Subject) (workflow.Submission, error)
	Withdraw(ctx context.Context, tenant string, a authz.Subject) (workflow.Submission, error)
	SubmissionsPage(ctx context.Context, tenant string, p workflow.Page) ([]workflow.Submission, string, error)
}

// Reviews is what the operators' desk needs of the branding workflow:
// the review queue, decisions and every tenant's state.
type Reviews interface {
	QueuePage(ctx context.Context, p workflow.Page) ([]workflow.QueueEntry, string, error)
	Overview(ctx context.Context, tenants []string) ([]workflow.TenantState, error)
	Review(ctx context.Context, tenant string) (workflow.Review, error)
	Approve(ctx context.Context, tenant, submissionID string, a authz.Subject, note string) (workflow.Version, error)
	Reject(ctx context.Context, tenant, submissionID string, a authz.Subject, reason string) (workflow.Submission, error)
}

// History is what a tenant's versions, rollback and audit trail need of
// the branding workflow.
type History interface {
	VersionsPage(ctx context.Context, tenant string, p workflow.Page) ([]workflow.Version, string, error)
	Rollback(ctx context.Context, tenant string, version int, a authz.Subject, reason string) (workflow.Version, error)
	AuditPage(ctx context.Context, tenant string, f audit.Filter, p workflow.Page) ([]audit.Record, string, error)
}

// maxImageUpload bounds a logo upload request (the image limit is 512 KB;
// multipart framing adds a little).
const maxImageUpload = 600 << 10

type (
	adminDrafts      struct{ d Drafts }
	adminSubmissions struct{ s Submissions }
	adminReviews     struct{ r Reviews }
	adminHistory     struct{ h History }
)

// actor is the authenticated staff member, who the workflow records as
// acting (a staff principal has no Customer).
func actor(c *fiber.Ctx) authz.Subject {
	p, _ := web.PrincipalOf(c)
	return p
}

func (a *adminDrafts) get(c *fiber.Ctx) error {
	d, err := a.d.Draft(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return brandingError(err)
	}
	if d.ETag != "" {
		c.Set(fiber.HeaderETag, strconv.Quote(strings.Trim(d.ETag, `"`)))
	}
	return c.JSON(d)
}

func (a *adminDrafts) put(c *fiber.Ctx) error {
	var doc branding.Document
	if err := decodeJSONBody(c, &doc); err != nil {
		return err
	}
	ifMatch := strings.Trim(c.Get(fiber.HeaderIfMatch), `"`)
	if ifMatch == "*" {
		return errInvalidRequest.withf("If-Match must be the draft's ETag (omit it to create the first draft).")
	}
	d, err := a.d.PutDraft(c.UserContext(), web.Param(c, "tenant"), doc, ifMatch, actor(c))
	if err != nil {
		return brandingError(err)
	}
	c.Set(fiber.HeaderETag, strconv.Quote(strings.Trim(d.ETag, `"`)))
	return c.JSON(d)
}

// postImage takes a logo sent as multipart/form-data in the field "file".
func (a *adminDrafts) postImage(c *fiber.Ctx) error {
	if len(c.Body()) > maxImageUpload {
		return errTooLarge.withf("Images are limited to 512 KB.")
	}
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != fiber.MIMEMultipartForm {
		return errUnsupportedMediaType.withf("Send the image as multipart/form-data in the field \"file\".")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return errInvalidRequest.withf("file is required: send the image as multipart/form-data in the field \"file\".")
	}
	f, err := fh.Open()
	if err != nil {
		return errInvalidRequest.withf("The uploaded file could not be read.")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImageUpload+1))
	if err != nil {
		return errInvalidRequest.withf("The uploaded file could not be read.")
	}
	asset, err := a.d.PutImage(c.UserContext(), web.Param(c, "tenant"), data, actor(c))
	if err != nil {
		return brandingError(err)
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"asset": asset,
		"url": web.AssetsPath + asset.SHA256 + "." + asset.Ext})
}

func (a *adminSubmissions) submit(c *fiber.Ctx) error {
	s, err := a.s.Submit(c.UserContext(), web.Param(c, "tenant"), actor(c))
	if err != nil {
		return brandingError(err)
	}
	return c.Status(http.StatusCreated).JSON(s)
}

func (a *adminSubmissions) withdraw(c *fiber.Ctx) error {
	s, err := a.s.Withdraw(c.UserContext(), web.Param(c, "tenant"), actor(c))
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(s)
}

// list answers a page of the submission history, newest first.
func (a *adminSubmissions) list(c *fiber.Ctx) error {
	p, err := pageOf(c)
	if err != nil {
		return err
	}
	l, next, err := a.s.SubmissionsPage(c.UserContext(), web.Param(c, "tenant"), p)
	if err != nil {
		return pageError(err)
	}
	return c.JSON(fiber.Map{"submissions": nonNil(l), "next_cursor": next})
}

// versions answers a page of the approved versions, newest first.
func (a *adminHistory) versions(c *fiber.Ctx) error {
	p, err := pageOf(c)
	if err != nil {
		return err
	}
	l, next, err := a.h.VersionsPage(c.UserContext(), web.Param(c, "tenant"), p)
	if err != nil {
		return pageError(err)
	}
	return c.JSON(fiber.Map{"versions": nonNil(l), "next_cursor": next})
}

// audit answers a page of the audit trail, newest first, filtered.
func (a *adminHistory) audit(c *fiber.Ctx) error {
	p, err := pageOf(c)
	if err != nil {
		return err
	}
	f, err := auditFilterOf(c)
	if err != nil {
		return err
	}
	l, next, err := a.h.AuditPage(c.UserContext(), web.Param(c, "tenant"), f, p)
	if err != nil {
		return pageError(err)
	}
	return c.JSON(fiber.Map{"records": nonNil(l), "next_cursor": next})
}

func (a *adminHistory) rollback(c *fiber.Ctx) error {
	var body struct {
		Version int    `json:"version"`
		Reason  string `json:"reason"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.Version < 1 {
		return errInvalidRequest.withf("version must be a positive version number.")
	}
	v, err := a.h.Rollback(c.UserContext(), web.Param(c, "tenant"), body.Version, actor(c), body.Reason)
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(v)
}

// queue answers a page of the review queue, oldest first, each entry
// with its due date and overdue flag.
func (a *adminReviews) queue(c *fiber.Ctx) error {
	p, err := pageOf(c)
	if err != nil {
		return err
	}
	l, next, err := a.r.QueuePage(c.UserContext(), p)
	if err != nil {
		return pageError(err)
	}
	return c.JSON(fiber.Map{"submissions": nonNil(l), "next_cursor": next})
}

func (a *adminReviews) review(c *fiber.Ctx) error {
	r, err := a.r.Review(c.UserContext(), web.Param(c, "tenant"))
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

// decision reads an approval's or a rejection's body; submission_id is
// required.
func decision(c *fiber.Ctx) (decisionBody, error) {
	var body decisionBody
	if err := decodeJSONBody(c, &body); err != nil {
		return body, err
	}
	if body.SubmissionID == "" {
		return body, errInvalidRequest.withf("submission_id is required (the id of the submission you reviewed).")
	}
	return body, nil
}

func (a *adminReviews) approve(c *fiber.Ctx) error {
	body, err := decision(c)
	if err != nil {
		return err
	}
	v, err := a.r.Approve(c.UserContext(), web.Param(c, "tenant"), body.SubmissionID, actor(c), body.Note)
	if err != nil {
		return brandingError(err)
	}
	return c.JSON(v)
}

func (a *adminReviews) reject(c *fiber.Ctx) error {
	body, err := decision(c)
	if err != nil {
		return err
	}
	s, err := a.r.Reject(c.UserContext(), web.Param(c, "tenant"), body.SubmissionID, actor(c), body.Reason)
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
