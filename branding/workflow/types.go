package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
)

// Sentinel errors. Methods wrap them with detail; test with errors.Is.
// Validation failures are *branding.ValidationError (errors.Is
// branding.ErrInvalid) listing every problem with its field path.
var (
	// ErrNotFound: the tenant has no such draft, submission, version or
	// image (also returned for malformed ids and asset names).
	ErrNotFound = errors.New("branding workflow: not found")
	// ErrConflict: the draft's ETag does not match (HTTP 412), or the
	// draft exists when create-only was asked for.
	ErrConflict = errors.New("branding workflow: draft was changed by someone else")
	// ErrPendingExists: the tenant already has a submission under review
	// (HTTP 409).
	ErrPendingExists = errors.New("branding workflow: a submission is already pending review")
	// ErrNoPending: the tenant has no submission under review.
	ErrNoPending = errors.New("branding workflow: no submission is pending review")
	// ErrStale: the submission was already decided (approved, rejected or
	// withdrawn) or is not the pending one any more.
	ErrStale = errors.New("branding workflow: submission is no longer pending")
	// ErrSelfApproval: maker–checker, neither the submitter nor anyone who
	// edited the submitted draft since the last approval can approve it.
	ErrSelfApproval = errors.New("branding workflow: a submission cannot be approved by its submitter or an editor of it")
	// ErrReasonRequired: a rejection or rollback reason is missing, blank
	// or longer than MaxReasonRunes (also an over-long approval note).
	ErrReasonRequired = errors.New("branding workflow: reason required (1-500 characters)")
	// ErrAlreadyLive: rollback to the version that is already live.
	ErrAlreadyLive = errors.New("branding workflow: version is already live")
	// ErrInvalidArgument: malformed tenant id or missing actor user.
	ErrInvalidArgument = errors.New("branding workflow: invalid argument")
)

// MaxReasonRunes bounds reasons and notes (after trimming spaces).
const MaxReasonRunes = 500

// Draft is a tenant's working copy. ETag is "" when no draft is stored
// (Doc is then the live document or DefaultDocument).
//
// Seq counts the draft's saves. Editors lists who saved it and the Seq of
// their last save, for every save not yet covered by an approval: an
// approval of a submission frozen at draft Seq k covers every save up to k,
// so a save made after the submission (or never submitted) keeps its
// editor listed. Maker–checker reads it at submission.
type Draft struct {
	Doc       branding.Document `json:"doc"`
	ETag      string            `json:"-"`
	UpdatedBy string            `json:"updated_by,omitempty"`
	UpdatedAt time.Time         `json:"updated_at,omitzero"`
	Seq       int               `json:"seq,omitempty"`
	Editors   []Editor          `json:"editors,omitempty"`
}

// Editor is one user's latest save of a draft.
type Editor struct {
	User string `json:"user"`
	Seq  int    `json:"seq"`
}

// Status of a submission.
type Status string

// Submission statuses.
const (
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusWithdrawn Status = "withdrawn"
)

// Submission is a frozen copy of a draft sent for review, plus its
// decision once made. Due is SubmittedAt plus three working days (see
// DueDate). BaseVersion is the live version number at submission time (0:
// none). Reason is the rejection reason or the approver's note; Version is
// the version created by an approval.
type Submission struct {
	ID          string            `json:"id"`
	Tenant      string            `json:"tenant"`
	Doc         branding.Document `json:"doc"`
	SubmittedBy authz.Subject     `json:"submitted_by"`
	// Authors are the submitter and every user whose save of the draft
	// is in this submission and was not covered by an earlier approval;
	// none of them may approve it. DraftSeq is the draft's Seq when
	// frozen.
	Authors     []string       `json:"authors,omitempty"`
	DraftSeq    int            `json:"draft_seq,omitempty"`
	SubmittedAt time.Time      `json:"submitted_at"`
	Due         time.Time      `json:"due"`
	BaseVersion int            `json:"base_version"`
	Status      Status         `json:"status"`
	DecidedBy   *authz.Subject `json:"decided_by,omitempty"`
	DecidedAt   time.Time      `json:"decided_at,omitzero"`
	Reason      string         `json:"reason,omitempty"`
	Version     int            `json:"version,omitempty"`
}

// Version is an immutable approved branding document.
type Version struct {
	Tenant       string            `json:"tenant"`
	Number       int               `json:"number"`
	Doc          branding.Document `json:"doc"`
	ApprovedBy   authz.Subject     `json:"approved_by"`
	ApprovedAt   time.Time         `json:"approved_at"`
	SubmissionID string            `json:"submission_id"`
	SubmittedBy  authz.Subject     `json:"submitted_by"`
	Note         string            `json:"note,omitempty"`
}

// Review is what an operator sees for the pending submission: the
// proposal, the live version (nil when none) and the field-level changes
// from live to proposed.
type Review struct {
	Submission Submission        `json:"submission"`
	Live       *Version          `json:"live"`
	Changes    []branding.Change `json:"changes"`
}

// Notifier is told after the live pointer of a tenant changed (approve or
// rollback). It must not block for long; errors are its own business.
type Notifier interface {
	Published(ctx context.Context, tenant string, version int)
}

// DefaultDocument is the draft of a tenant that has neither a draft nor a
// live version: every console menu and operations area shown, nothing
// customised.
func DefaultDocument() branding.Document {
	return branding.Document{
		Promotions: []branding.Item{},
		Menus:      branding.Menus{ShowInfo: true, ShowResources: true, ShowUser: true, ShowCustom: true, Custom: []branding.Item{}},
		Ops:        branding.Ops{ShowAnnouncements: true, ShowActivities: true, ShowRecommended: true, Announcements: []branding.Announcement{}},
	}
}
