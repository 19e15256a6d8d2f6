package tenants

import "github.com/livery/livery/authz"

// AuditStream is the audit stream of the partner domain's records: the
// partner API's and the admin actions on a partner's customers and access
// keys. They are stored under audit/<tenant>/partner/ (see package
// internal/audit).
const AuditStream = "partner"

// Audit events of the partner domain. They name what happened to a
// partner's customers and keys, so they live with the domain; package
// audit stores any event. Only authenticated requests are audited:
// EventSignatureFailed is no longer written (failed signatures are counted
// and logged sampled by the gateway, since anyone can send them); it
// remains for reading older records.
const (
	EventCustomerCreate   = "customer.create"
	EventSignatureFailed  = "signature.failed"
	EventRegistrationRisk = "registration.refused"
	// EventManagersSet: a customer's managers were replaced (DomainID; Detail
	// is {"before":[...],"after":[...]}).
	EventManagersSet = "customer.managers.set"
	// EventKeyCreate and EventKeyRevoke: an access key (KeyID) was created
	// or revoked through the admin API or the staff UI.
	EventKeyCreate = "accesskey.create"
	EventKeyRevoke = "accesskey.revoke"
)

// Actor is who performs an admin action, for its audit record: the
// authenticated staff member and, when known, the request id and client
// address of the request that asked for it.
type Actor struct {
	Subject   authz.Subject
	RequestID string
	Source    string
}
