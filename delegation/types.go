package delegation

import (
	"context"
	"errors"
	"time"

	"github.com/livery/livery/authz"
)

// Sentinel errors. Methods wrap them with detail (zh/en where people see
// it); test with errors.Is. Store failures are returned wrapped and wrap
// none of these.
var (
	// ErrInvalidArgument: a malformed tenant, customer or grant id, or a
	// missing actor user.
	ErrInvalidArgument = errors.New("delegation: invalid argument / 参数无效")
	// ErrNotFound: the tenant has no such grant.
	ErrNotFound = errors.New("delegation: no such grant / 授权不存在")
	// ErrUnknownCustomer: the tenant has no such customer.
	ErrUnknownCustomer = errors.New("delegation: no such customer of this partner / 该合作伙伴没有此客户")
	// ErrReferralCustomer: the customer is a referral (顾问销售) customer;
	// only resale (代售) customers can be operated on their behalf.
	ErrReferralCustomer = errors.New("delegation: delegated operations are only for resale customers / 代客运维仅适用于代售客户")
	// ErrPendingExists: the customer already has a request waiting for an
	// answer (one pending request per customer).
	ErrPendingExists = errors.New("delegation: the customer already has a pending request / 该客户已有待处理的授权申请")
	// ErrActiveExists: the customer has an active grant and the request
	// does not say it replaces it (a new approval never silently replaces
	// an active grant).
	ErrActiveExists = errors.New("delegation: the customer already has an active grant / 该客户已有生效中的授权")
	// ErrNotYourGrant: the subject may not act on this grant (another
	// customer, another tenant, a customer acting as staff or the reverse).
	ErrNotYourGrant = errors.New("delegation: not allowed to act on this grant / 无权操作此授权")
	// ErrState: the grant is not in a state that allows the action (e.g.
	// approving a rejected or expired request, revoking an ended grant);
	// the message names the effective state.
	ErrState = errors.New("delegation: the grant does not allow this action in its current state / 授权当前状态不允许此操作")
	// ErrBadScope: an empty scope list, an unknown scope or a duplicate.
	ErrBadScope = errors.New("delegation: invalid scopes / 权限范围无效")
	// ErrBadDuration: a duration outside [MinDuration, MaxDuration].
	ErrBadDuration = errors.New("delegation: duration must be between 1 hour and 1 year / 授权时长须在1小时到1年之间")
	// ErrReasonRequired: a reason that is blank, not UTF-8 or longer than
	// MaxReasonRunes.
	ErrReasonRequired = errors.New("delegation: a reason of 1-500 characters is required / 需要填写1-500个字符的原因")
	// ErrAgreementRequired: the tenant has not accepted the current
	// delegated-operation agreement (the message names its version).
	ErrAgreementRequired = errors.New("delegation: the delegated-operation agreement must be accepted first / 须先接受代客运维协议")
	// ErrAgreementVersion: AcceptAgreement named a version other than the
	// current one.
	ErrAgreementVersion = errors.New("delegation: not the current agreement version / 不是当前协议版本")
	// ErrBadCursor: a page cursor this package did not produce.
	ErrBadCursor = errors.New("delegation: invalid page cursor / 分页游标无效")
)

// Bounds.
const (
	// MinDuration and MaxDuration bound a grant's duration; a grant is
	// never permanent.
	MinDuration = time.Hour
	MaxDuration = 365 * 24 * time.Hour
	// DefaultRequestTTL is how long a request waits for an answer before
	// it expires (Options.RequestTTL).
	DefaultRequestTTL = 7 * 24 * time.Hour
	// MaxReasonRunes bounds reasons (after trimming spaces).
	MaxReasonRunes = 500
)

// State of a grant.
type State string

// Grant states. StateApproved is the active state; the other states
// after requested are final.
const (
	StateRequested      State = "requested"
	StateApproved       State = "approved"
	StateRejected       State = "rejected"
	StateWithdrawn      State = "withdrawn"
	StateRequestExpired State = "request_expired"
	StateRevoked        State = "revoked"
	StateExpired        State = "expired"
)

// Final reports whether no transition leaves st.
func (st State) Final() bool { return st != StateRequested && st != StateApproved }

// Grant is one delegation: requested by partner staff, decided by the
// customer. Stored under delegation/<tenant>/grants/<id>.json; every
// state change is a compare-and-swap of that object. State is the stored
// state; StateAt gives the effective one (expiry is lazy).
type Grant struct {
	ID           string        `json:"id"`
	Tenant       string        `json:"tenant"`
	Customer     string        `json:"customer"`
	CustomerName string        `json:"customer_name,omitempty"`
	RequestedBy  authz.Subject `json:"requested_by"`
	Reason       string        `json:"reason"`
	Scopes       []Scope       `json:"scopes"`
	Duration     time.Duration `json:"duration"`
	// Replaces is the active grant this request replaces when approved
	// ("" = none; see Request).
	Replaces    string    `json:"replaces,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
	// RequestExpiresAt is when an unanswered request expires.
	RequestExpiresAt time.Time `json:"request_expires_at"`
	// AgreementVersion is the agreement version accepted when requested.
	AgreementVersion string `json:"agreement_version"`

	State State `json:"state"`
	// DecidedBy / DecidedAt / DecisionNote: the customer's approval or
	// rejection (or the staff member's withdrawal).
	DecidedBy    *authz.Subject `json:"decided_by,omitempty"`
	DecidedAt    time.Time      `json:"decided_at,omitzero"`
	DecisionNote string         `json:"decision_note,omitempty"`
	// ApprovedAt and EndsAt: the active window [ApprovedAt, EndsAt).
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	EndsAt     time.Time `json:"ends_at,omitzero"`
	// RevokedBy / RevokedAt / RevokeReason: who ended it early. ReplacedBy
	// names the grant whose approval revoked this one.
	RevokedBy    *authz.Subject `json:"revoked_by,omitempty"`
	RevokedAt    time.Time      `json:"revoked_at,omitzero"`
	RevokeReason string         `json:"revoke_reason,omitempty"`
	ReplacedBy   string         `json:"replaced_by,omitempty"`
	// Seq counts stored changes (every state has a distinct ETag).
	Seq int `json:"seq"`
	// ETag is the stored object's, for information ("" when not read
	// from the store).
	ETag string `json:"-"`
}

// StateAt is the effective state at now: a requested grant past
// RequestExpiresAt is StateRequestExpired, an approved grant at or past
// EndsAt is StateExpired; otherwise the stored state.
func (g Grant) StateAt(now time.Time) State {
	switch {
	case g.State == StateRequested && !now.Before(g.RequestExpiresAt):
		return StateRequestExpired
	case g.State == StateApproved && !now.Before(g.EndsAt):
		return StateExpired
	}
	return g.State
}

// Active reports whether the grant allows delegated operation at now.
func (g Grant) Active(now time.Time) bool { return g.StateAt(now) == StateApproved }

// EndedAt is when the grant stopped (or stops) counting: the revocation,
// the end of the window, the request's expiry or the decision; zero for a
// pending request.
func (g Grant) EndedAt(now time.Time) time.Time {
	switch g.StateAt(now) {
	case StateRevoked:
		return g.RevokedAt
	case StateExpired, StateApproved:
		return g.EndsAt
	case StateRequestExpired:
		if !g.DecidedAt.IsZero() {
			return g.DecidedAt
		}
		return g.RequestExpiresAt
	case StateRejected, StateWithdrawn:
		return g.DecidedAt
	}
	return time.Time{}
}

// HasScope reports whether the grant includes s.
func (g Grant) HasScope(s Scope) bool {
	for _, x := range g.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// CustomerInfo is what the service needs to know about a customer.
// AssociationType is "2" for resale (代售) and "1" for referral.
type CustomerInfo struct {
	Name            string
	AssociationType string
}

// Association types (the partner API's association_type).
const (
	AssociationReferral = "1"
	AssociationResale   = "2"
)

// Directory looks customers up. found is false (nil error) for a
// customer the tenant does not have; errors are store failures.
type Directory interface {
	Customer(ctx context.Context, tenant, domainID string) (info CustomerInfo, found bool, err error)
}

// DirectoryFunc adapts a function to Directory.
type DirectoryFunc func(ctx context.Context, tenant, domainID string) (CustomerInfo, bool, error)

// Customer implements Directory.
func (f DirectoryFunc) Customer(ctx context.Context, tenant, domainID string) (CustomerInfo, bool, error) {
	return f(ctx, tenant, domainID)
}

// Notifier is told after a grant's stored state changed (requested,
// decided, revoked, expired), so that instances can drop delegated
// sessions (the gateway publishes it over Redis). It must not block for
// long; errors are its own business. It is told again when crash recovery
// completes a change, so receivers must treat it as "re-read the grant".
type Notifier interface {
	GrantChanged(ctx context.Context, tenant, grantID string)
}
