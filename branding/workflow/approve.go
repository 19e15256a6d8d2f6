package workflow

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
)

// livePointer is the object under live/<tenant>.json. HighWater is the
// highest version ever made live; Seq counts changes (so every state has a
// distinct ETag).
type livePointer struct {
	Version      int           `json:"version"`
	HighWater    int           `json:"high_water"`
	Seq          int           `json:"seq"`
	Action       string        `json:"action"` // approve | rollback
	By           authz.Subject `json:"by"`
	At           time.Time     `json:"at"`
	Reason       string        `json:"reason,omitempty"`
	SubmissionID string        `json:"submission_id,omitempty"`
	// ApprovedDraftSeq is the highest draft Seq covered by an approval:
	// saves up to it have been reviewed by a checker.
	ApprovedDraftSeq int `json:"approved_draft_seq,omitempty"`
}

func (s *Service) livePointer(ctx context.Context, tenant string) (livePointer, string, error) {
	p, etag, _, err := getJSON[livePointer](ctx, s.store, liveKey(tenant))
	return p, etag, err
}

// swapLive is the compare-and-swap loop on the live pointer: change
// returns the next pointer, or apply=false to leave it alone. Each attempt
// re-reads the pointer, so change always sees the current state.
func (s *Service) swapLive(ctx context.Context, tenant string, change func(cur livePointer) (livePointer, bool, error)) (bool, error) {
	for range 16 {
		cur, etag, err := s.livePointer(ctx, tenant)
		if err != nil {
			return false, err
		}
		next, apply, err := change(cur)
		if err != nil || !apply {
			return false, err
		}
		next.Seq = cur.Seq + 1
		_, err = s.putJSON(ctx, liveKey(tenant), next, condition(etag))
		if !isPrecondition(err) {
			if err != nil {
				return false, fmt.Errorf("workflow: swap live pointer: %w", err)
			}
			return true, nil
		}
	}
	return false, fmt.Errorf("workflow: swap live pointer of %s: too much contention", tenant)
}

// nextVersion is one more than the highest stored version (orphans
// included) or live high-water mark.
func (s *Service) nextVersion(ctx context.Context, tenant string) (int, error) {
	objs, err := s.store.List(ctx, versionPrefix(tenant))
	if err != nil {
		return 0, fmt.Errorf("workflow: list versions: %w", err)
	}
	lp, _, err := s.livePointer(ctx, tenant)
	if err != nil {
		return 0, err
	}
	top := lp.HighWater
	for _, o := range objs {
		if n, ok := versionNumber(tenant, o.Key); ok && n > top {
			top = n
		}
	}
	return top + 1, nil
}

func versionNumber(tenant, key string) (int, bool) {
	s, ok := strings.CutSuffix(strings.TrimPrefix(key, versionPrefix(tenant)), ".json")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

// decide records a decision on submission id ("" = the pending one) and
// completes it. It returns the decided submission and, for approvals, the
// new version.
func (s *Service) decide(ctx context.Context, tenant, id string, actor authz.Subject, st Status, why string) (Submission, Version, error) {
	ptr, _, err := s.settle(ctx, tenant)
	if err != nil {
		return Submission{}, Version{}, err
	}
	if id == "" {
		if id = ptr.SubmissionID; id == "" {
			return Submission{}, Version{}, ErrNoPending
		}
	}
	sub, found, err := s.submission(ctx, tenant, id)
	switch {
	case err != nil:
		return Submission{}, Version{}, err
	case !found:
		return Submission{}, Version{}, fmt.Errorf("%w: submission %q", ErrNotFound, id)
	case ptr.SubmissionID != id:
		return Submission{}, Version{}, fmt.Errorf("%w: %s", ErrStale, id)
	case st == StatusApproved && (actor.User == sub.SubmittedBy.User || slices.Contains(sub.Authors, actor.User)):
		return Submission{}, Version{}, ErrSelfApproval
	}
	d := decision{Status: st, By: actor, At: s.clock(), Reason: why}
	if st == StatusApproved {
		if d.Version, err = s.nextVersion(ctx, tenant); err != nil {
			return Submission{}, Version{}, err
		}
	}
	if _, err := s.putJSON(ctx, decisionKey(tenant, id), d, createOnly()); err != nil {
		if isPrecondition(err) {
			// Someone else decided first; help complete their decision.
			if _, _, serr := s.settle(ctx, tenant); serr != nil {
				s.log.Warn("branding: completing a concurrent decision", "tenant", tenant, "submission", id, "err", serr)
			}
			return Submission{}, Version{}, fmt.Errorf("%w: %s was decided concurrently", ErrStale, id)
		}
		return Submission{}, Version{}, fmt.Errorf("workflow: record decision: %w", err)
	}
	v, err := s.complete(ctx, tenant, sub, d)
	return d.apply(sub), v, err
}

var decisionEvents = map[Status]string{StatusApproved: EventApprove, StatusRejected: EventReject, StatusWithdrawn: EventWithdraw}

// complete carries out a recorded decision; every step is idempotent, so
// it is safe to run again after a crash or concurrently: (approve) version
// create-only, live swap below the high-water mark, notify; then audit,
// then clear the pending pointer (last, so that an incomplete run is found
// and redone by settle).
func (s *Service) complete(ctx context.Context, tenant string, sub Submission, d decision) (Version, error) {
	var v Version
	if d.Status == StatusApproved {
		var err error
		if v, err = s.publish(ctx, tenant, sub, d); err != nil {
			return Version{}, err
		}
	}
	if err := s.recordSubmit(ctx, sub); err != nil {
		return v, err
	}
	err := s.record(ctx, audit.Record{ID: sub.ID, Time: d.At, Event: decisionEvents[d.Status], Tenant: tenant,
		Actor: d.By, SubmissionID: sub.ID, Version: d.Version, Reason: d.Reason})
	if err != nil {
		return v, err
	}
	cleared, err := s.clearPending(ctx, tenant, sub.ID)
	if err != nil {
		return v, fmt.Errorf("workflow: clear pending: %w", err)
	}
	if cleared {
		// Whoever completes the decision tells the partner, so a decision
		// completed by recovery is told too, and each one once (unless
		// the process dies right here).
		s.announce(ctx, outcomeOf(tenant, sub, d))
	}
	return v, nil
}

// publish writes the approved version and makes it live unless it has
// been live already (high-water mark).
func (s *Service) publish(ctx context.Context, tenant string, sub Submission, d decision) (Version, error) {
	v := Version{Tenant: tenant, Number: d.Version, Doc: sub.Doc, ApprovedBy: d.By, ApprovedAt: d.At,
		SubmissionID: sub.ID, SubmittedBy: sub.SubmittedBy, Note: d.Reason}
	if _, err := s.putJSON(ctx, versionKey(tenant, v.Number), v, createOnly()); err != nil {
		if !isPrecondition(err) {
			return Version{}, fmt.Errorf("workflow: store version: %w", err)
		}
		had, err := s.Version(ctx, tenant, v.Number)
		if err != nil {
			return Version{}, err
		}
		if had.SubmissionID != sub.ID {
			return Version{}, fmt.Errorf("workflow: version %d of %s belongs to submission %s, not %s",
				v.Number, tenant, had.SubmissionID, sub.ID)
		}
		v = had
	}
	_, err := s.swapLive(ctx, tenant, func(cur livePointer) (livePointer, bool, error) {
		if cur.HighWater >= v.Number {
			return cur, false, nil // already published (maybe rolled back since)
		}
		return livePointer{Version: v.Number, HighWater: v.Number, Action: "approve", By: d.By, At: d.At,
			Reason: d.Reason, SubmissionID: sub.ID, ApprovedDraftSeq: max(cur.ApprovedDraftSeq, sub.DraftSeq)}, true, nil
	})
	if err != nil {
		return Version{}, err
	}
	s.notify(ctx, tenant, v.Number)
	return v, nil
}

func (s *Service) notify(ctx context.Context, tenant string, n int) {
	if s.notifier != nil {
		s.notifier.Published(context.WithoutCancel(ctx), tenant, n)
	}
}

// Approve approves the pending submission id: it becomes a new immutable
// version (number = highest existing + 1) and goes live, and the Notifier
// is told. note is optional (at most MaxReasonRunes). Errors:
// ErrSelfApproval (actor.User submitted it or edited the submitted draft), ErrStale (id was decided or
// is not the pending submission; of concurrent approvals exactly one
// succeeds), ErrNotFound (no such submission), ErrReasonRequired (note too
// long), ErrInvalidArgument.
func (s *Service) Approve(ctx context.Context, tenant, id string, actor authz.Subject, note string) (Version, error) {
	if err := checkActor(tenant, actor); err != nil {
		return Version{}, err
	}
	note, err := reason(note, false)
	if err != nil {
		return Version{}, err
	}
	_, v, err := s.decide(ctx, tenant, id, actor, StatusApproved, note)
	return v, err
}

// Reject rejects the pending submission id with a reason the partner will
// see (trimmed, 1–MaxReasonRunes runes). Errors: ErrReasonRequired
// (checked first; nothing changes), ErrStale, ErrNotFound,
// ErrInvalidArgument.
func (s *Service) Reject(ctx context.Context, tenant, id string, actor authz.Subject, why string) (Submission, error) {
	why, err := reason(why, true)
	if err != nil {
		return Submission{}, err
	}
	if err := checkActor(tenant, actor); err != nil {
		return Submission{}, err
	}
	sub, _, err := s.decide(ctx, tenant, id, actor, StatusRejected, why)
	return sub, err
}

// Live returns the tenant's live version, or nil, nil when none was ever
// approved.
func (s *Service) Live(ctx context.Context, tenant string) (*Version, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	p, etag, err := s.livePointer(ctx, tenant)
	if err != nil || etag == "" {
		return nil, err
	}
	v, err := s.Version(ctx, tenant, p.Version)
	if err != nil {
		return nil, fmt.Errorf("workflow: live version of %s: %w", tenant, err)
	}
	return &v, nil
}

// Version returns approved version n, or ErrNotFound.
func (s *Service) Version(ctx context.Context, tenant string, n int) (Version, error) {
	if err := checkTenant(tenant); err != nil {
		return Version{}, err
	}
	if n < 1 {
		return Version{}, fmt.Errorf("%w: version %d", ErrNotFound, n)
	}
	v, _, found, err := getJSON[Version](ctx, s.store, versionKey(tenant, n))
	if err == nil && !found {
		err = fmt.Errorf("%w: version %d", ErrNotFound, n)
	}
	return v, err
}

// Versions returns every approved version of the tenant, oldest first.
func (s *Service) Versions(ctx context.Context, tenant string) ([]Version, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	objs, err := s.store.List(ctx, versionPrefix(tenant))
	if err != nil {
		return nil, fmt.Errorf("workflow: list versions: %w", err)
	}
	out := make([]Version, 0, len(objs))
	for _, o := range objs {
		if n, ok := versionNumber(tenant, o.Key); ok {
			v, err := s.Version(ctx, tenant, n)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// Rollback makes approved version n live again (any version other than the
// live one; no new version is created) and records who and why (reason
// 1–MaxReasonRunes runes). An interrupted approval is completed first, so
// a rollback is never undone by it. Errors: ErrReasonRequired,
// ErrNotFound, ErrAlreadyLive, ErrInvalidArgument.
func (s *Service) Rollback(ctx context.Context, tenant string, n int, actor authz.Subject, why string) (Version, error) {
	why, err := reason(why, true)
	if err != nil {
		return Version{}, err
	}
	if err := checkActor(tenant, actor); err != nil {
		return Version{}, err
	}
	if _, _, err := s.settle(ctx, tenant); err != nil {
		return Version{}, err
	}
	v, err := s.Version(ctx, tenant, n)
	if err != nil {
		return Version{}, err
	}
	at, from := s.clock(), 0
	_, err = s.swapLive(ctx, tenant, func(cur livePointer) (livePointer, bool, error) {
		if cur.Version == n {
			return cur, false, fmt.Errorf("%w: version %d", ErrAlreadyLive, n)
		}
		from = cur.Version
		return livePointer{Version: n, HighWater: max(cur.HighWater, n), Action: "rollback", By: actor, At: at,
			Reason: why, ApprovedDraftSeq: cur.ApprovedDraftSeq}, true, nil
	})
	if err != nil {
		return Version{}, err
	}
	s.notify(ctx, tenant, n)
	s.announce(ctx, Outcome{Tenant: tenant, Kind: OutcomeRolledBack, Version: n, Reason: why, Actor: actor.User, At: at})
	return v, s.record(ctx, audit.Record{Time: at, Event: EventRollback, Tenant: tenant, Actor: actor, Version: n,
		Reason: why, Detail: fmt.Sprintf("from version %d", from)})
}
