package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// Audit events.
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
func (s *Service) RecordPreviewRefused(ctx context.Context, tenant string, by Actor, detail string) error {
	if err := checkActor(tenant, by); err != nil {
		return err
	}
	return s.record(ctx, AuditRecord{Event: EventPreviewRefused, Tenant: tenant, Actor: by, Detail: detail})
}

// AuditRecord is one durable audit entry. ID makes the record's key unique;
// recording the same (Time, Event, ID) twice stores it once.
type AuditRecord struct {
	ID           string    `json:"id"`
	Time         time.Time `json:"time"`
	Event        string    `json:"event"`
	Tenant       string    `json:"tenant"`
	Actor        Actor     `json:"actor"`
	SubmissionID string    `json:"submission_id,omitempty"`
	Version      int       `json:"version,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	Detail       string    `json:"detail,omitempty"`
}

// AuditSink stores audit records durably. Record returns only once the
// record is durable; recording an identical (Time, Event, ID) again must
// succeed without duplicating it.
type AuditSink interface {
	Record(ctx context.Context, r AuditRecord) error
}

// AuditReader is implemented by sinks that can list a tenant's branding
// records (oldest first); Service.Audit needs it.
type AuditReader interface {
	Records(ctx context.Context, tenant string) ([]AuditRecord, error)
}

// StoreAudit is the object-store AuditSink: one immutable object per
// record under audit/<tenant>/branding/<time>-<event>-<id>.json.
type StoreAudit struct {
	Store objstore.Store
}

var (
	_ AuditSink   = (*StoreAudit)(nil)
	_ AuditReader = (*StoreAudit)(nil)
)

func auditKey(r AuditRecord) string {
	return fmt.Sprintf("%s%s-%s-%s.json", auditPrefix(r.Tenant),
		r.Time.UTC().Format("20060102T150405.000000000Z"), r.Event, r.ID)
}

// Record writes r create-only. An existing record with the same key is
// success (idempotent re-recording). Errors are the store's; a record with
// an invalid tenant, empty ID or Event is refused with ErrInvalidArgument.
func (a *StoreAudit) Record(ctx context.Context, r AuditRecord) error {
	if !ValidTenant(r.Tenant) || r.ID == "" || r.Event == "" || r.Time.IsZero() {
		return fmt.Errorf("%w: incomplete audit record", ErrInvalidArgument)
	}
	_, err := objstore.PutJSON(ctx, a.Store, auditKey(r), r, createOnly())
	if err != nil && !isPrecondition(err) {
		return fmt.Errorf("workflow: audit %s: %w", r.Event, err)
	}
	return nil
}

// Records returns the tenant's branding audit records, oldest first.
func (a *StoreAudit) Records(ctx context.Context, tenant string) ([]AuditRecord, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	objs, err := a.Store.List(ctx, auditPrefix(tenant))
	if err != nil {
		return nil, fmt.Errorf("workflow: list audit: %w", err)
	}
	out := make([]AuditRecord, 0, len(objs))
	for _, o := range objs {
		r, _, err := objstore.GetJSON[AuditRecord](ctx, a.Store, o.Key)
		if err != nil {
			return nil, fmt.Errorf("workflow: read audit: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Audit returns the tenant's branding audit records, oldest first. It
// needs an AuditSink that implements AuditReader (the default does).
func (s *Service) Audit(ctx context.Context, tenant string) ([]AuditRecord, error) {
	rd, ok := s.audit.(AuditReader)
	if !ok {
		return nil, errors.New("workflow: the configured audit sink cannot be read back")
	}
	return rd.Records(ctx, tenant)
}

// record writes an audit record; id "" means a random one. The error says
// the action happened but could not be audited.
func (s *Service) record(ctx context.Context, r AuditRecord) error {
	if r.ID == "" {
		r.ID = randomHex(8)
	}
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
