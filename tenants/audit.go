package tenants

import (
	"context"
	"fmt"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// Audit events of the partner API. Only authenticated requests are
// audited: EventSignatureFailed is no longer written (failed signatures are
// counted and logged sampled by the gateway, since anyone can send them);
// it remains for reading older records.
const (
	EventCustomerCreate   = "customer.create"
	EventSignatureFailed  = "signature.failed"
	EventRegistrationRisk = "registration.refused"
)

// AuditRecord is one durable audit entry.
type AuditRecord struct {
	Time         time.Time `json:"time"`
	Event        string    `json:"event"`
	Tenant       string    `json:"tenant,omitempty"` // empty when the key was unknown
	KeyID        string    `json:"key_id,omitempty"`
	XAccountType string    `json:"xaccount_type,omitempty"`
	XAccountID   string    `json:"xaccount_id,omitempty"`
	DomainID     string    `json:"domain_id,omitempty"`
	Result       string    `json:"result"` // "ok" or the error code answered
	Reason       string    `json:"reason,omitempty"`
	Source       string    `json:"source,omitempty"`
	RequestID    string    `json:"request_id"`
}

// Auditor writes audit records to the object store, one immutable object
// each, under audit/<tenant>/<yyyy>/<mm>/<dd>/.
type Auditor struct {
	Store objstore.Store
	Now   func() time.Time
}

// Record stores r durably (create-only, so a record is never overwritten).
// It fills in Time when zero. Errors are the store's.
func (a *Auditor) Record(ctx context.Context, r AuditRecord) error {
	if r.Time.IsZero() {
		now := time.Now
		if a.Now != nil {
			now = a.Now
		}
		r.Time = now().UTC()
	}
	tenant := r.Tenant
	if tenant == "" {
		tenant = "_unknown"
	}
	key := fmt.Sprintf("audit/%s/%s/%s-%s-%s.json", tenant, r.Time.Format("2006/01/02"),
		r.Time.Format("150405.000000000"), r.Event, newID()[:12])
	_, err := objstore.PutJSON(ctx, a.Store, key, r, objstore.PutOptions{IfNoneMatch: true})
	return err
}
