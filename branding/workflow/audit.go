package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
)

// AuditStream is the audit stream of branding records: they are stored
// under audit/<tenant>/branding/ (see package audit).
const AuditStream = "branding"

// Audit events of the branding workflow. They are the workflow's
// vocabulary, so they live here; package audit stores any event.
const (
	EventDraftSave   = "branding.draft.save"
	EventImageUpload = "branding.image.upload"
	EventSubmit      = "branding.submit"
	EventWithdraw    = "branding.withdraw"
	EventApprove     = "branding.approve"
	EventReject      = "branding.reject"
	EventRollback    = "branding.rollback"
	// EventPreviewRefused: a preview link or marker met a customer
	// session and was not honoured (unreviewed branding is for staff).
	EventPreviewRefused = "branding.preview.refused"
)

// RecordPreviewRefused audits a preview that was refused because the
// browser holds a customer session. by is the staff member who minted the
// preview; detail says where it was refused. Errors: ErrInvalidArgument,
// the sink's error.
func (s *Service) RecordPreviewRefused(ctx context.Context, tenant string, by authz.Subject, detail string) error {
	if err := checkActor(tenant, by); err != nil {
		return err
	}
	return s.record(ctx, audit.Record{Event: EventPreviewRefused, Tenant: tenant, Actor: by, Detail: detail})
}

// Audit returns the tenant's branding audit records, oldest first. It
// needs an audit sink that is also an audit.Reader (the default, an
// audit.Log of AuditStream, is). Errors: ErrInvalidArgument for a malformed
// tenant id, else the reader's (wrapped).
func (s *Service) Audit(ctx context.Context, tenant string) ([]audit.Record, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	rd, ok := s.audit.(audit.Reader)
	if !ok {
		return nil, errors.New("workflow: the configured audit sink cannot be read back")
	}
	recs, err := rd.Records(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("workflow: read audit: %w", err)
	}
	return recs, nil
}

// record writes an audit record at the service's clock unless r.Time is
// set; an empty ID is made random by the sink. The error says the action
// happened but could not be audited.
func (s *Service) record(ctx context.Context, r audit.Record) error {
	if r.Time.IsZero() {
		r.Time = s.clock()
	}
	if err := s.audit.Record(ctx, r); err != nil {
		s.log.Error("branding: action done but audit record failed", "event", r.Event, "tenant", r.Tenant,
			"user", r.Actor.User, "submission", r.SubmissionID, "version", r.Version, "err", err)
		return fmt.Errorf("workflow: %s done but not audited: %w", r.Event, err)
	}
	return nil
}
