package workflow

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livery/livery/internal/audit"
)

// Page asks for one page of a list. Cursor is "" for the first page, else
// the next cursor a previous call of the same list returned (opaque; a
// cursor of another list or tenant is refused or, at worst, starts at an
// arbitrary point of this one). Limit is the page size: 0 means
// DefaultPageLimit; it must be 0 to MaxPageLimit.
type Page struct {
	Cursor string
	Limit  int
}

// Page sizes.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// ErrBadCursor: a page cursor that no call of this list returned (not
// base64url, another list's, malformed), or a limit outside
// 0–MaxPageLimit. The error text names which ("cursor" or "limit").
var ErrBadCursor = errors.New("branding workflow: invalid page cursor or limit")

// Cursor kinds: a cursor is base64url("<kind>:<position>").
const (
	cursorSubmissions = "s"
	cursorVersions    = "v"
	cursorAudit       = "a"
	cursorQueue       = "q"
)

func encodeCursor(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + pos))
}

// limit returns the page size of p or ErrBadCursor.
func (p Page) limit() (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultPageLimit, nil
	case p.Limit < 0 || p.Limit > MaxPageLimit:
		return 0, fmt.Errorf("%w: limit must be 1 to %d", ErrBadCursor, MaxPageLimit)
	}
	return p.Limit, nil
}

// position decodes p.Cursor of kind ("" for the first page).
func (p Page) position(kind string) (string, error) {
	if p.Cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	pos, ok := strings.CutPrefix(string(b), kind+":")
	if err != nil || !ok || pos == "" {
		return "", fmt.Errorf("%w: cursor is not one this list returned", ErrBadCursor)
	}
	return pos, nil
}

// SubmissionsPage is one page of the tenant's submission history, newest
// first, with decisions (as Submissions). next is the cursor of the
// following page, "" after the last. Only the page's submissions are read
// (one List of the tenant's submission keys, then one read of the
// submission and of its decision per entry). Errors: ErrBadCursor,
// ErrInvalidArgument, store errors.
func (s *Service) SubmissionsPage(ctx context.Context, tenant string, p Page) ([]Submission, string, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, "", err
	}
	limit, err := p.limit()
	if err != nil {
		return nil, "", err
	}
	before, err := p.position(cursorSubmissions)
	if err != nil {
		return nil, "", err
	}
	if before != "" && !submissionIDRe.MatchString(before) {
		return nil, "", fmt.Errorf("%w: cursor is not one this list returned", ErrBadCursor)
	}
	objs, err := s.store.List(ctx, submissionPrefix(tenant))
	if err != nil {
		return nil, "", fmt.Errorf("workflow: list submissions: %w", err)
	}
	ptr, _, err := s.pending(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, submissionPrefix(tenant)), ".json"); ok && submissionIDRe.MatchString(id) {
			ids = append(ids, id)
		}
	}
	var out []Submission
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		if before != "" && id >= before {
			continue
		}
		if len(out) == limit {
			return out, encodeCursor(cursorSubmissions, out[len(out)-1].ID), nil
		}
		sub, ok, err := s.historyEntry(ctx, tenant, id, ptr.SubmissionID)
		if err != nil {
			return nil, "", err
		}
		if ok {
			out = append(out, sub)
		}
	}
	return out, "", nil
}

// historyEntry is submission id as the history shows it: with its
// decision, or pending; ok is false for a submission that never became
// pending (it lost a race or its submit crashed).
func (s *Service) historyEntry(ctx context.Context, tenant, id, pendingID string) (Submission, bool, error) {
	sub, found, err := s.submission(ctx, tenant, id)
	if err != nil || !found {
		return Submission{}, false, err
	}
	d, decided, err := s.decision(ctx, tenant, id)
	switch {
	case err != nil:
		return Submission{}, false, err
	case decided:
		return d.apply(sub), true, nil
	case pendingID == id:
		return sub, true, nil
	}
	return Submission{}, false, nil
}

// VersionsPage is one page of the tenant's approved versions, newest
// (highest number) first; next is "" after the last page. Only the page's
// versions are read. Errors: ErrBadCursor, ErrInvalidArgument, store
// errors.
func (s *Service) VersionsPage(ctx context.Context, tenant string, p Page) ([]Version, string, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, "", err
	}
	limit, err := p.limit()
	if err != nil {
		return nil, "", err
	}
	pos, err := p.position(cursorVersions)
	if err != nil {
		return nil, "", err
	}
	below := 0
	if pos != "" {
		if below, err = strconv.Atoi(pos); err != nil || below < 1 {
			return nil, "", fmt.Errorf("%w: cursor is not one this list returned", ErrBadCursor)
		}
	}
	objs, err := s.store.List(ctx, versionPrefix(tenant))
	if err != nil {
		return nil, "", fmt.Errorf("workflow: list versions: %w", err)
	}
	var nums []int
	for _, o := range objs {
		if n, ok := versionNumber(tenant, o.Key); ok && (below == 0 || n < below) {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	var out []Version
	for i := len(nums) - 1; i >= 0; i-- {
		if len(out) == limit {
			return out, encodeCursor(cursorVersions, strconv.Itoa(out[len(out)-1].Number)), nil
		}
		v, err := s.Version(ctx, tenant, nums[i])
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, "", nil
}

// AuditPage is one page of the tenant's branding audit records matching
// f, newest first; next is "" after the last page. A page may be shorter
// than the limit while next is not "" (see audit.ScanBudget). It needs an
// audit sink that is also an audit.Pager (the default audit.Log is).
// Errors: ErrBadCursor, ErrInvalidArgument, else the pager's (wrapped).
func (s *Service) AuditPage(ctx context.Context, tenant string, f audit.Filter, p Page) ([]audit.Record, string, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, "", err
	}
	limit, err := p.limit()
	if err != nil {
		return nil, "", err
	}
	before, err := p.position(cursorAudit)
	if err != nil {
		return nil, "", err
	}
	if before != "" && !audit.ValidName(before) {
		return nil, "", fmt.Errorf("%w: cursor is not one this list returned", ErrBadCursor)
	}
	pg, ok := s.audit.(audit.Pager)
	if !ok {
		return nil, "", errors.New("workflow: the configured audit sink cannot be paged")
	}
	recs, next, err := pg.Page(ctx, tenant, f, before, limit)
	if err != nil {
		return nil, "", fmt.Errorf("workflow: read audit: %w", err)
	}
	if next != "" {
		next = encodeCursor(cursorAudit, next)
	}
	return recs, next, nil
}

// QueueEntry is a pending submission in the review queue. Due is its
// review deadline (Submission.Due, by DueDate); Overdue says whether it
// had passed when the queue was read.
type QueueEntry struct {
	Submission
	Overdue bool `json:"overdue"`
}

// QueuePage is one page of the review queue: every tenant's pending
// submission, oldest first (the next to review at the top); next is ""
// after the last page. The queue is built from the pending pointers (one
// List of pending/ and one read per tenant), so its cost grows with the
// number of tenants, not of submissions. Errors: ErrBadCursor, store
// errors.
func (s *Service) QueuePage(ctx context.Context, p Page) ([]QueueEntry, string, error) {
	limit, err := p.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := p.position(cursorQueue)
	if err != nil {
		return nil, "", err
	}
	if id, t, ok := strings.Cut(after, "/"); after != "" && (!ok || !submissionIDRe.MatchString(id) || !ValidTenant(t)) {
		return nil, "", fmt.Errorf("%w: cursor is not one this list returned", ErrBadCursor)
	}
	q, err := s.Queue(ctx)
	if err != nil {
		return nil, "", err
	}
	// The cursor is a queuePos, so the page walks the queue in that order
	// (the same as Queue's: ids begin with the submission time).
	slices.SortStableFunc(q, func(a, b Submission) int { return strings.Compare(queuePos(a), queuePos(b)) })
	now := s.clock()
	var out []QueueEntry
	for _, sub := range q {
		if after != "" && queuePos(sub) <= after {
			continue
		}
		if len(out) == limit {
			return out, encodeCursor(cursorQueue, queuePos(out[len(out)-1].Submission)), nil
		}
		out = append(out, QueueEntry{Submission: sub, Overdue: Overdue(sub, now)})
	}
	return out, "", nil
}

// queuePos is a submission's place in the queue: submission ids start
// with their submission time, so they sort as the queue does; the tenant
// breaks ties.
func queuePos(sub Submission) string { return sub.ID + "/" + sub.Tenant }

// Overdue reports whether the pending submission sub is past its due date
// at now.
func Overdue(sub Submission, now time.Time) bool {
	return sub.Status == StatusPending && !sub.Due.IsZero() && now.After(sub.Due)
}
