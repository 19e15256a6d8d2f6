package tenants

// AuditStream is the audit stream of the partner API's records: they are
// stored under audit/<tenant>/partner/ (see package internal/audit).
const AuditStream = "partner"

// Audit events of the partner API. They name what happened to a partner's
// customers, so they live with the domain; package audit stores any event.
// Only authenticated requests are audited: EventSignatureFailed is no
// longer written (failed signatures are counted and logged sampled by the
// gateway, since anyone can send them); it remains for reading older
// records.
const (
	EventCustomerCreate   = "customer.create"
	EventSignatureFailed  = "signature.failed"
	EventRegistrationRisk = "registration.refused"
)
