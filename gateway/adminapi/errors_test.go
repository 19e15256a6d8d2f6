package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/images"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
)

// fakeWorkflow answers every workflow call with err.
type fakeWorkflow struct{ err error }

func (f fakeWorkflow) Draft(context.Context, string) (workflow.Draft, error) {
	return workflow.Draft{}, f.err
}
func (f fakeWorkflow) PutDraft(context.Context, string, branding.Document, string, authz.Subject) (workflow.Draft, error) {
	return workflow.Draft{}, f.err
}
func (f fakeWorkflow) PutImage(context.Context, string, []byte, authz.Subject) (branding.Asset, error) {
	return branding.Asset{}, f.err
}
func (f fakeWorkflow) Submit(context.Context, string, authz.Subject) (workflow.Submission, error) {
	return workflow.Submission{}, f.err
}
func (f fakeWorkflow) Withdraw(context.Context, string, authz.Subject) (workflow.Submission, error) {
	return workflow.Submission{}, f.err
}
func (f fakeWorkflow) SubmissionsPage(context.Context, string, workflow.Page) ([]workflow.Submission, string, error) {
	return nil, "", f.err
}
func (f fakeWorkflow) QueuePage(context.Context, workflow.Page) ([]workflow.QueueEntry, string, error) {
	return nil, "", f.err
}
func (f fakeWorkflow) Overview(context.Context, []string) ([]workflow.TenantState, error) {
	return nil, f.err
}
func (f fakeWorkflow) Review(context.Context, string) (workflow.Review, error) {
	return workflow.Review{}, f.err
}
func (f fakeWorkflow) Approve(context.Context, string, string, authz.Subject, string) (workflow.Version, error) {
	return workflow.Version{}, f.err
}
func (f fakeWorkflow) Reject(context.Context, string, string, authz.Subject, string) (workflow.Submission, error) {
	return workflow.Submission{}, f.err
}
func (f fakeWorkflow) VersionsPage(context.Context, string, workflow.Page) ([]workflow.Version, string, error) {
	return nil, "", f.err
}
func (f fakeWorkflow) Rollback(context.Context, string, int, authz.Subject, string) (workflow.Version, error) {
	return workflow.Version{}, f.err
}
func (f fakeWorkflow) AuditPage(context.Context, string, audit.Filter, workflow.Page) ([]audit.Record, string, error) {
	return nil, "", f.err
}

// fakeCustomers has one customer, "c1", and fails every call with err.
type fakeCustomers struct{ err error }

func (f fakeCustomers) List(context.Context, string, tenants.Query) ([]tenants.Customer, int, error) {
	return nil, 0, f.err
}
func (f fakeCustomers) ByDomainID(context.Context, string, string) (*tenants.Customer, error) {
	return &tenants.Customer{DomainID: "c1"}, nil
}
func (f fakeCustomers) Page(context.Context, string, tenants.Search) (tenants.Page, error) {
	return tenants.Page{}, f.err
}
func (f fakeCustomers) Export(context.Context, string, tenants.Search) ([]tenants.Customer, bool, error) {
	return nil, false, f.err
}
func (f fakeCustomers) Assign(context.Context, tenants.Actor, string, string, []string) (*tenants.Customer, error) {
	return &tenants.Customer{DomainID: "c1"}, f.err
}

// fakeKeys fails every call with err.
type fakeKeys struct{ err error }

func (f fakeKeys) List(context.Context, string) ([]tenants.AccessKey, error) { return nil, f.err }
func (f fakeKeys) Create(context.Context, tenants.Actor, string) (tenants.AccessKey, string, error) {
	return tenants.AccessKey{}, "", f.err
}
func (f fakeKeys) Revoke(context.Context, tenants.Actor, string, string) (tenants.AccessKey, error) {
	return tenants.AccessKey{}, f.err
}

type allowAll struct{}

func (allowAll) Authorize(context.Context, authz.Subject, authz.Request) (authz.Decision, error) {
	return authz.Decision{Allowed: true}, nil
}

type oneTenant struct{}

func (oneTenant) ByID(id string) (*tenants.Tenant, bool) {
	return &tenants.Tenant{ID: id}, id == "acme"
}

// adminApp mounts the admin API for an operator, with a workflow and a
// customer registry failing with err and a preview answering previewErr.
func adminApp(err, previewErr error) *fiber.App {
	app := fiber.New(fiber.Config{ErrorHandler: web.ErrorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)), true)})
	authenticate := func(c *fiber.Ctx) error {
		c.Locals(web.LocalPrincipal, authz.Subject{User: "op-1", Roles: []string{"operator"}})
		return c.Next()
	}
	w := fakeWorkflow{err: err}
	Mount(app, authenticate, Options{Authorizer: allowAll{}, Customers: fakeCustomers{err: err}, Tenants: oneTenant{},
		Managers: fakeCustomers{err: err}, Keys: fakeKeys{err: err},
		Drafts: w, Submissions: w, Reviews: w, History: w,
		Preview: func(*fiber.Ctx) error { return previewErr }})
	return app
}

// TestOneMistakeOneCode: the same mistake gets the same error_code on
// every admin endpoint, and domain errors get the table's code.
func TestOneMistakeOneCode(t *testing.T) {
	const jsonCT, textCT = "application/json", "text/plain"
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "logo.png")
	fw.Write([]byte("png"))
	mw.Close()
	var noFile bytes.Buffer
	nw := multipart.NewWriter(&noFile)
	nw.WriteField("other", "x")
	nw.Close()

	const (
		draft    = Prefix + "/tenants/acme/branding/draft"
		upload   = Prefix + "/tenants/acme/branding/images"
		rollback = Prefix + "/tenants/acme/branding/rollback"
		approve  = Prefix + "/reviews/acme/approve"
		reject   = Prefix + "/reviews/acme/reject"
		managers = Prefix + "/tenants/acme/customers/c1/managers"
		list     = Prefix + "/tenants/acme/customers"
		preview  = Prefix + "/tenants/acme/branding/preview"
	)
	for _, tc := range []struct {
		name             string
		err, previewErr  error
		method, path, ct string
		body, ifMatch    string
		wantStatus       int
		wantCode         string
	}{
		// a missing or invalid field or parameter
		{name: "limit out of range", method: "GET", path: list + "?limit=0", wantStatus: 400, wantCode: "invalid_request"},
		{name: "history limit out of range", method: "GET", path: Prefix + "/tenants/acme/branding/versions?limit=101", wantStatus: 400, wantCode: "invalid_request"},
		{name: "history cursor refused", err: fmt.Errorf("%w: cursor", workflow.ErrBadCursor), method: "GET", path: Prefix + "/tenants/acme/branding/submissions?cursor=x", wantStatus: 400, wantCode: "invalid_request"},
		{name: "queue cursor refused", err: workflow.ErrBadCursor, method: "GET", path: Prefix + "/reviews?cursor=x", wantStatus: 400, wantCode: "invalid_request"},
		{name: "audit since", method: "GET", path: Prefix + "/tenants/acme/branding/audit?since=yesterday", wantStatus: 400, wantCode: "invalid_request"},
		{name: "audit action", method: "GET", path: Prefix + "/tenants/acme/branding/audit?action=Not%20An%20Event", wantStatus: 400, wantCode: "invalid_request"},
		{name: "managers missing", method: "PUT", path: managers, ct: jsonCT, body: `{}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "If-Match *", method: "PUT", path: draft, ct: jsonCT, body: `{}`, ifMatch: "*", wantStatus: 400, wantCode: "invalid_request"},
		{name: "version 0", method: "POST", path: rollback, ct: jsonCT, body: `{"version":0}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "approve without submission_id", method: "POST", path: approve, ct: jsonCT, body: `{}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "reject without submission_id", method: "POST", path: reject, ct: jsonCT, body: `{}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "reject without reason", err: workflow.ErrReasonRequired, method: "POST", path: reject, ct: jsonCT, body: `{"submission_id":"s"}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "workflow invalid argument", err: fmt.Errorf("%w: version 9 does not exist", workflow.ErrInvalidArgument), method: "POST", path: rollback, ct: jsonCT, body: `{"version":9}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "registry field error", err: &tenants.FieldError{Field: "managers[0]", Reason: "is empty", Kind: tenants.ErrInvalid}, method: "PUT", path: managers, ct: jsonCT, body: `{"managers":[""]}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "image without file field", method: "POST", path: upload, ct: nw.FormDataContentType(), body: noFile.String(), wantStatus: 400, wantCode: "invalid_request"},
		{name: "preview source", previewErr: web.Errorf(400, "bad_request", "source must be pending or draft."), method: "POST", path: preview + "?source=x", wantStatus: 400, wantCode: "invalid_request"},
		// malformed JSON
		{name: "draft not JSON", method: "PUT", path: draft, ct: jsonCT, body: `{`, wantStatus: 400, wantCode: "bad_json"},
		{name: "managers not JSON", method: "PUT", path: managers, ct: jsonCT, body: `{`, wantStatus: 400, wantCode: "bad_json"},
		{name: "approve unknown member", method: "POST", path: approve, ct: jsonCT, body: `{"submission":"s"}`, wantStatus: 400, wantCode: "bad_json"},
		// the wrong media type
		{name: "draft as text", method: "PUT", path: draft, ct: textCT, body: `{}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "managers as text", method: "PUT", path: managers, ct: textCT, body: `{}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "image as JSON", method: "POST", path: upload, ct: jsonCT, body: `{}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		// an image too large, however it is found
		{name: "image upload too large", method: "POST", path: upload, ct: textCT, body: string(make([]byte, maxImageUpload+1)), wantStatus: 413, wantCode: "too_large"},
		{name: "image too large", err: fmt.Errorf("%w: 600000 bytes", images.ErrTooLarge), method: "POST", path: upload, ct: mw.FormDataContentType(), body: mp.String(), wantStatus: 413, wantCode: "too_large"},
		{name: "image corrupt", err: images.ErrCorrupt, method: "POST", path: upload, ct: mw.FormDataContentType(), body: mp.String(), wantStatus: 422, wantCode: "invalid_image"},
		// tenants
		{name: "unknown tenant", method: "GET", path: Prefix + "/tenants/nope/branding/draft", wantStatus: 404, wantCode: "unknown_tenant"},
		{name: "unknown tenant in review", method: "GET", path: Prefix + "/reviews/nope", wantStatus: 404, wantCode: "unknown_tenant"},
		{name: "another partner's data", err: tenants.ErrForbidden, method: "GET", path: list, wantStatus: 403, wantCode: "forbidden"},
		// the workflow's states
		{name: "draft changed", err: workflow.ErrConflict, method: "PUT", path: draft, ct: jsonCT, body: `{}`, ifMatch: "e1", wantStatus: 412, wantCode: "draft_changed"},
		{name: "pending exists", err: workflow.ErrPendingExists, method: "POST", path: Prefix + "/tenants/acme/branding/submit", wantStatus: 409, wantCode: "pending_exists"},
		{name: "no pending", err: workflow.ErrNoPending, method: "POST", path: Prefix + "/tenants/acme/branding/withdraw", wantStatus: 409, wantCode: "no_pending"},
		{name: "stale", err: workflow.ErrStale, method: "POST", path: approve, ct: jsonCT, body: `{"submission_id":"s"}`, wantStatus: 409, wantCode: "stale_submission"},
		{name: "self approval", err: workflow.ErrSelfApproval, method: "POST", path: approve, ct: jsonCT, body: `{"submission_id":"s"}`, wantStatus: 403, wantCode: "self_approval"},
		{name: "already live", err: workflow.ErrAlreadyLive, method: "POST", path: rollback, ct: jsonCT, body: `{"version":1,"reason":"r"}`, wantStatus: 409, wantCode: "already_live"},
		{name: "not found", err: workflow.ErrNotFound, method: "GET", path: Prefix + "/reviews/acme", wantStatus: 404, wantCode: "not_found"},
		{name: "invalid document", err: &branding.ValidationError{}, method: "PUT", path: draft, ct: jsonCT, body: `{}`, wantStatus: 422, wantCode: "invalid_branding"},
		// managers and access keys
		{name: "unknown staff", err: &tenants.UnknownStaffError{Tenant: "acme", IDs: []string{"ghost"}}, method: "PUT", path: managers, ct: jsonCT, body: `{"managers":["ghost"]}`, wantStatus: 422, wantCode: "unknown_staff"},
		{name: "no such customer", err: tenants.ErrNotFound, method: "PUT", path: managers, ct: jsonCT, body: `{"managers":[]}`, wantStatus: 404, wantCode: "not_found"},
		{name: "too many keys", err: tenants.ErrTooManyKeys, method: "POST", path: Prefix + "/tenants/acme/keys", wantStatus: 409, wantCode: "too_many_keys"},
		{name: "unknown key", err: tenants.ErrUnknownKey, method: "POST", path: Prefix + "/tenants/acme/keys/AK1/revoke", wantStatus: 404, wantCode: "not_found"},
		{name: "key store down", err: errors.New("store: connection refused"), method: "GET", path: Prefix + "/tenants/acme/keys", wantStatus: 503, wantCode: "unavailable"},
		{name: "bad cursor", err: &tenants.FieldError{Field: "cursor", Reason: "is not a cursor", Kind: tenants.ErrInvalid}, method: "GET", path: list + "?cursor=x", wantStatus: 400, wantCode: "invalid_request"},
		{name: "bad format", method: "GET", path: list + "?format=xml", wantStatus: 400, wantCode: "invalid_request"},
		// failures
		{name: "registry down", err: errors.New("index: connection refused"), method: "GET", path: list, wantStatus: 503, wantCode: "unavailable"},
		{name: "workflow failure", err: errors.New("boom"), method: "GET", path: Prefix + "/tenants/acme/branding/versions", wantStatus: 500, wantCode: "internal_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, bytes.NewBufferString(tc.body))
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			if tc.ifMatch != "" {
				req.Header.Set("If-Match", tc.ifMatch)
			}
			resp, err := adminApp(tc.err, tc.previewErr).Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body web.ErrorBody
			raw, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("%d %s: %v", resp.StatusCode, raw, err)
			}
			if resp.StatusCode != tc.wantStatus || body.Code != tc.wantCode {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, raw, tc.wantStatus, tc.wantCode)
			}
			if body.Message == "" {
				t.Fatalf("no message: %s", raw)
			}
			if tc.wantStatus == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
}
