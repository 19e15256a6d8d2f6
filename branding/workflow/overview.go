package workflow

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/livery/livery/authz"
)

// TenantState is one tenant's branding at a glance, for operators. A
// section is nil when the tenant has none: Live (nothing ever approved),
// Draft (no draft saved), Pending (nothing under review), LastDecision
// (no submission ever decided).
type TenantState struct {
	Tenant       string         `json:"tenant"`
	Live         *LiveState     `json:"live"`
	Draft        *DraftState    `json:"draft"`
	Pending      *PendingState  `json:"pending"`
	LastDecision *DecisionState `json:"last_decision"`
}

// LiveState is the live version: its number, when and by whom it was
// approved, and the last change of the live pointer (Action "approve" or
// "rollback", at ChangedAt).
type LiveState struct {
	Version    int       `json:"version"`
	ApprovedAt time.Time `json:"approved_at"`
	ApprovedBy string    `json:"approved_by"`
	Action     string    `json:"action"`
	ChangedAt  time.Time `json:"changed_at"`
}

// DraftState is who saved the working draft last, and when.
type DraftState struct {
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PendingState is the submission under review. Overdue is relative to the
// time Overview ran.
type PendingState struct {
	SubmissionID string    `json:"submission_id"`
	SubmittedBy  string    `json:"submitted_by"`
	SubmittedAt  time.Time `json:"submitted_at"`
	Due          time.Time `json:"due"`
	Overdue      bool      `json:"overdue"`
}

// DecisionState is the latest decision on one of the tenant's submissions
// (Status approved, rejected or withdrawn). Reason is the rejection
// reason or the approval note; Version the version an approval created.
type DecisionState struct {
	SubmissionID string        `json:"submission_id"`
	Status       Status        `json:"status"`
	By           authz.Subject `json:"by"`
	At           time.Time     `json:"at"`
	Reason       string        `json:"reason,omitempty"`
	Version      int           `json:"version,omitempty"`
}

// overviewParallel bounds how many tenants Overview reads at once.
const overviewParallel = 8

// Overview returns the branding state of each of tenants, in the order
// given. It only reads (about eight small objects per tenant, a few
// tenants at a time) and is meant for operators; callers pass the
// configured tenants. Errors: ErrInvalidArgument for a malformed tenant
// id (before anything is read), else the first store error.
func (s *Service) Overview(ctx context.Context, tenants []string) ([]TenantState, error) {
	for _, t := range tenants {
		if err := checkTenant(t); err != nil {
			return nil, err
		}
	}
	out := make([]TenantState, len(tenants))
	errs := make([]error, len(tenants))
	sem := make(chan struct{}, overviewParallel)
	var wg sync.WaitGroup
	for i, t := range tenants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], errs[i] = s.tenantState(ctx, t)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) tenantState(ctx context.Context, tenant string) (TenantState, error) {
	st := TenantState{Tenant: tenant}
	lp, etag, err := s.livePointer(ctx, tenant)
	if err != nil {
		return st, err
	}
	if etag != "" {
		v, err := s.Version(ctx, tenant, lp.Version)
		if err != nil {
			return st, err
		}
		st.Live = &LiveState{Version: v.Number, ApprovedAt: v.ApprovedAt, ApprovedBy: v.ApprovedBy.User, Action: lp.Action, ChangedAt: lp.At}
	}
	d, _, found, err := getJSON[Draft](ctx, s.store, draftKey(tenant))
	if err != nil {
		return st, err
	}
	if found {
		st.Draft = &DraftState{UpdatedBy: d.UpdatedBy, UpdatedAt: d.UpdatedAt}
	}
	sub, pending, err := s.pendingSubmission(ctx, tenant)
	if err != nil {
		return st, err
	}
	if pending {
		st.Pending = &PendingState{SubmissionID: sub.ID, SubmittedBy: sub.SubmittedBy.User, SubmittedAt: sub.SubmittedAt,
			Due: sub.Due, Overdue: Overdue(sub, s.clock())}
	}
	// One submission is pending at a time, so decisions are made in the
	// order of submission ids: the last decision key is the latest.
	objs, err := s.store.List(ctx, decisionPrefix(tenant))
	if err != nil {
		return st, fmt.Errorf("workflow: list decisions: %w", err)
	}
	for i := len(objs) - 1; i >= 0; i-- {
		id, ok := strings.CutSuffix(strings.TrimPrefix(objs[i].Key, decisionPrefix(tenant)), ".json")
		if !ok || !submissionIDRe.MatchString(id) {
			continue
		}
		dec, found, err := s.decision(ctx, tenant, id)
		if err != nil {
			return st, err
		}
		if found {
			st.LastDecision = &DecisionState{SubmissionID: id, Status: dec.Status, By: dec.By, At: dec.At, Reason: dec.Reason, Version: dec.Version}
		}
		break
	}
	return st, nil
}
