package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/internal/audit"
)

// pendingPointer is the object under pending/<tenant>.json. It is never
// deleted: clearing sets SubmissionID to "" and Cleared to the id it held,
// so every state has distinct content (and ETag) and all transitions are
// conditional writes.
type pendingPointer struct {
	SubmissionID string    `json:"submission_id"`
	SubmittedAt  time.Time `json:"submitted_at,omitzero"`
	Cleared      string    `json:"cleared,omitempty"`
}

// decision is the object under decisions/<tenant>/<id>.json, created
// create-only: a submission has at most one. Version is the number an
// approval publishes, fixed when the decision is made.
type decision struct {
	Status  Status        `json:"status"`
	By      authz.Subject `json:"by"`
	At      time.Time     `json:"at"`
	Reason  string        `json:"reason,omitempty"`
	Version int           `json:"version,omitempty"`
}

func (d decision) apply(sub Submission) Submission {
	by := d.By
	sub.Status, sub.DecidedBy, sub.DecidedAt, sub.Reason, sub.Version = d.Status, &by, d.At, d.Reason, d.Version
	return sub
}

func (s *Service) pending(ctx context.Context, tenant string) (pendingPointer, string, error) {
	p, etag, _, err := getJSON[pendingPointer](ctx, s.store, pendingKey(tenant))
	return p, etag, err
}

func (s *Service) submission(ctx context.Context, tenant, id string) (Submission, bool, error) {
	if !submissionIDRe.MatchString(id) {
		return Submission{}, false, nil
	}
	sub, _, found, err := getJSON[Submission](ctx, s.store, submissionKey(tenant, id))
	return sub, found, err
}

func (s *Service) decision(ctx context.Context, tenant, id string) (decision, bool, error) {
	d, _, found, err := getJSON[decision](ctx, s.store, decisionKey(tenant, id))
	return d, found, err
}

// settle returns the pending pointer after completing a decided
// submission it still names (crash recovery, see the package doc).
func (s *Service) settle(ctx context.Context, tenant string) (pendingPointer, string, error) {
	for range 4 {
		p, etag, err := s.pending(ctx, tenant)
		if err != nil || p.SubmissionID == "" {
			return p, etag, err
		}
		sub, found, err := s.submission(ctx, tenant, p.SubmissionID)
		if err != nil {
			return p, etag, err
		}
		if !found {
			// Cannot happen (the submission is written first); never let a
			// dangling pointer block the tenant.
			s.log.Error("branding: pending pointer names a missing submission; clearing it", "tenant", tenant, "submission", p.SubmissionID)
			if _, err := s.clearPending(ctx, tenant, p.SubmissionID); err != nil {
				return p, etag, err
			}
			continue
		}
		d, decided, err := s.decision(ctx, tenant, p.SubmissionID)
		if err != nil || !decided {
			return p, etag, err
		}
		s.log.Info("branding: completing a decision still named by the pending pointer", "tenant", tenant, "submission", sub.ID, "status", d.Status)
		if _, err := s.complete(ctx, tenant, sub, d); err != nil {
			return p, etag, err
		}
	}
	return pendingPointer{}, "", fmt.Errorf("workflow: pending pointer of %s keeps changing", tenant)
}

// clearPending clears the pending pointer if it still names id; cleared
// reports whether this call cleared it.
func (s *Service) clearPending(ctx context.Context, tenant, id string) (cleared bool, err error) {
	for range 16 {
		p, etag, err := s.pending(ctx, tenant)
		if err != nil || p.SubmissionID != id {
			return false, err
		}
		_, err = s.putJSON(ctx, pendingKey(tenant), pendingPointer{Cleared: id}, condition(etag))
		if !isPrecondition(err) {
			return err == nil, err
		}
	}
	return false, fmt.Errorf("workflow: clearing pending pointer of %s: too much contention", tenant)
}

// Submit freezes a copy of the tenant's draft (validated again, images
// must exist) as a new pending submission due in three working days.
// Errors: ErrPendingExists if a submission is already pending (exactly one
// of concurrent submits wins), ErrNotFound if there is no draft,
// *branding.ValidationError, ErrInvalidArgument.
func (s *Service) Submit(ctx context.Context, tenant string, actor authz.Subject) (Submission, error) {
	if err := checkActor(tenant, actor); err != nil {
		return Submission{}, err
	}
	ptr, ptrETag, err := s.settle(ctx, tenant)
	if err != nil {
		return Submission{}, err
	}
	if ptr.SubmissionID != "" {
		return Submission{}, fmt.Errorf("%w: %s", ErrPendingExists, ptr.SubmissionID)
	}
	d, _, found, err := getJSON[Draft](ctx, s.store, draftKey(tenant))
	if err != nil {
		return Submission{}, err
	}
	if !found {
		return Submission{}, fmt.Errorf("%w: no draft to submit", ErrNotFound)
	}
	if err := s.checkDoc(ctx, &d.Doc); err != nil {
		return Submission{}, err
	}
	lp, _, err := s.livePointer(ctx, tenant)
	if err != nil {
		return Submission{}, err
	}
	now := s.clock()
	sub := Submission{ID: newSubmissionID(now), Tenant: tenant, Doc: d.Doc, SubmittedBy: actor,
		Authors: d.authors(lp.ApprovedDraftSeq, actor.User), DraftSeq: d.Seq, SubmittedAt: now,
		Due: DueDate(now, s.holidays, s.loc), BaseVersion: lp.Version, Status: StatusPending}
	if _, err := s.putJSON(ctx, submissionKey(tenant, sub.ID), sub, createOnly()); err != nil {
		return Submission{}, fmt.Errorf("workflow: store submission: %w", err)
	}
	_, err = s.putJSON(ctx, pendingKey(tenant), pendingPointer{SubmissionID: sub.ID, SubmittedAt: now}, condition(ptrETag))
	switch {
	case isPrecondition(err):
		// Lost the race: the frozen copy is unreferenced; drop it. (On other
		// errors the pointer may have been written after all, so keep it.)
		if derr := s.store.Delete(context.WithoutCancel(ctx), submissionKey(tenant, sub.ID)); derr != nil {
			s.log.Warn("branding: removing unreferenced submission", "tenant", tenant, "submission", sub.ID, "err", derr)
		}
		return Submission{}, ErrPendingExists
	case err != nil:
		return Submission{}, fmt.Errorf("workflow: set pending: %w", err)
	}
	return sub, s.recordSubmit(ctx, sub)
}

func (s *Service) recordSubmit(ctx context.Context, sub Submission) error {
	return s.record(ctx, audit.Record{ID: sub.ID, Time: sub.SubmittedAt, Event: EventSubmit, Tenant: sub.Tenant,
		Actor: sub.SubmittedBy, SubmissionID: sub.ID, Version: sub.BaseVersion, Detail: "due " + sub.Due.Format(time.RFC3339)})
}

// Withdraw withdraws the tenant's pending submission (the partner changed
// their mind). Errors: ErrNoPending, ErrStale if it was decided
// concurrently, ErrInvalidArgument.
func (s *Service) Withdraw(ctx context.Context, tenant string, actor authz.Subject) (Submission, error) {
	if err := checkActor(tenant, actor); err != nil {
		return Submission{}, err
	}
	sub, _, err := s.decide(ctx, tenant, "", actor, StatusWithdrawn, "")
	return sub, err
}

// Pending returns the tenant's submission under review, or ErrNoPending.
func (s *Service) Pending(ctx context.Context, tenant string) (Submission, error) {
	if err := checkTenant(tenant); err != nil {
		return Submission{}, err
	}
	sub, ok, err := s.pendingSubmission(ctx, tenant)
	if err == nil && !ok {
		err = ErrNoPending
	}
	return sub, err
}

// pendingSubmission is the read-only view: a decided submission still
// named by the pointer (interrupted completion) is not pending.
func (s *Service) pendingSubmission(ctx context.Context, tenant string) (Submission, bool, error) {
	p, _, err := s.pending(ctx, tenant)
	if err != nil || p.SubmissionID == "" {
		return Submission{}, false, err
	}
	if _, decided, err := s.decision(ctx, tenant, p.SubmissionID); err != nil || decided {
		return Submission{}, false, err
	}
	sub, found, err := s.submission(ctx, tenant, p.SubmissionID)
	return sub, found, err
}

// Queue returns every tenant's pending submission, oldest first (the
// operators' review queue).
func (s *Service) Queue(ctx context.Context) ([]Submission, error) {
	objs, err := s.store.List(ctx, "pending/")
	if err != nil {
		return nil, fmt.Errorf("workflow: list pending: %w", err)
	}
	var out []Submission
	for _, o := range objs {
		tenant, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, "pending/"), ".json")
		if !ok || !ValidTenant(tenant) {
			continue
		}
		sub, ok, err := s.pendingSubmission(ctx, tenant)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, sub)
		}
	}
	slices.SortFunc(out, func(a, b Submission) int {
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Review returns the pending submission side by side with the live version
// and the field-level changes. Errors: ErrNoPending, ErrInvalidArgument.
func (s *Service) Review(ctx context.Context, tenant string) (Review, error) {
	sub, err := s.Pending(ctx, tenant)
	if err != nil {
		return Review{}, err
	}
	live, err := s.Live(ctx, tenant)
	if err != nil {
		return Review{}, err
	}
	var liveDoc *branding.Document
	if live != nil {
		liveDoc = &live.Doc
	}
	return Review{Submission: sub, Live: live, Changes: branding.Diff(liveDoc, &sub.Doc)}, nil
}

// Submissions returns the tenant's submission history, newest first, with
// decisions (so the partner sees rejection reasons).
func (s *Service) Submissions(ctx context.Context, tenant string) ([]Submission, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	objs, err := s.store.List(ctx, submissionPrefix(tenant))
	if err != nil {
		return nil, fmt.Errorf("workflow: list submissions: %w", err)
	}
	p, _, err := s.pending(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]Submission, 0, len(objs))
	for _, o := range slices.Backward(objs) {
		id, _ := strings.CutSuffix(strings.TrimPrefix(o.Key, submissionPrefix(tenant)), ".json")
		sub, found, err := s.submission(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		d, decided, err := s.decision(ctx, tenant, id)
		switch {
		case err != nil:
			return nil, err
		case decided:
			out = append(out, d.apply(sub))
		case p.SubmissionID == id:
			out = append(out, sub)
		}
		// Otherwise: never became pending (lost a race or crashed); not shown.
	}
	return out, nil
}
