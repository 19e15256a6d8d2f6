package delegation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
)

// AuditStream is the audit stream of grant events: stored under
// audit/<tenant>/delegation/ (see package audit). One record serves both
// sides: it names the tenant (the partner), the customer (DomainID), the
// grant (GrantID) and the actor.
const AuditStream = "delegation"

// Audit events of delegated operations.
const (
	EventAgreementAccepted = "delegation.agreement.accept"
	EventRequested         = "delegation.request"
	EventApproved          = "delegation.approve"
	EventRejected          = "delegation.reject"
	EventWithdrawn         = "delegation.withdraw"
	EventRequestExpired    = "delegation.request.expire"
	EventRevoked           = "delegation.revoke"
	EventExpired           = "delegation.expire"
	EventSwitchedIn        = "delegation.switch.in"
	EventSwitchedOut       = "delegation.switch.out"
)

// record writes r (ID defaults to the grant id) at the service's clock
// unless r.Time is set. The error says the action happened but could not
// be audited.
func (s *Service) record(ctx context.Context, r audit.Record) error {
	if r.Time.IsZero() {
		r.Time = s.clock()
	}
	if r.ID == "" {
		r.ID = r.GrantID
	}
	if err := s.audit.Record(ctx, r); err != nil {
		s.log.Error("delegation: action done but audit record failed", "event", r.Event, "tenant", r.Tenant,
			"customer", r.DomainID, "grant", r.GrantID, "user", r.Actor.User, "err", err)
		return fmt.Errorf("delegation: %s done but not audited: %w", r.Event, err)
	}
	return nil
}

func scopeList(g Grant) string {
	out := make([]string, len(g.Scopes))
	for i, sc := range g.Scopes {
		out[i] = string(sc)
	}
	return strings.Join(out, ",")
}

// recordRequest writes the request record (deterministic key: written
// once however often it runs).
func (s *Service) recordRequest(ctx context.Context, g Grant) error {
	detail := fmt.Sprintf("scopes %s; duration %s", scopeList(g), g.Duration)
	if g.Replaces != "" {
		detail += "; replaces " + g.Replaces
	}
	return s.record(ctx, audit.Record{Time: g.RequestedAt, Event: EventRequested, Tenant: g.Tenant, DomainID: g.Customer,
		GrantID: g.ID, Actor: g.RequestedBy, Reason: g.Reason, Detail: detail})
}

var decisionEvents = map[State]string{StateApproved: EventApproved, StateRejected: EventRejected,
	StateWithdrawn: EventWithdrawn, StateRequestExpired: EventRequestExpired}

// recordDecision writes the decision record of a decided request. An
// approved grant that was revoked or expired since keeps its approval.
func (s *Service) recordDecision(ctx context.Context, g Grant) error {
	st := g.State
	if st == StateRevoked || st == StateExpired {
		st = StateApproved
	}
	ev, ok := decisionEvents[st]
	if !ok {
		return nil
	}
	r := audit.Record{Time: g.DecidedAt, Event: ev, Tenant: g.Tenant, DomainID: g.Customer, GrantID: g.ID,
		Reason: g.DecisionNote}
	if g.DecidedBy != nil {
		r.Actor = *g.DecidedBy
	}
	if st == StateApproved {
		r.Detail = fmt.Sprintf("scopes %s; active until %s", scopeList(g), g.EndsAt.Format(time.RFC3339))
	}
	return s.record(ctx, r)
}

// recordEnd writes the revocation or expiry record of an ended grant.
func (s *Service) recordEnd(ctx context.Context, g Grant) error {
	switch g.State {
	case StateRevoked:
		r := audit.Record{Time: g.RevokedAt, Event: EventRevoked, Tenant: g.Tenant, DomainID: g.Customer, GrantID: g.ID,
			Reason: g.RevokeReason}
		if g.RevokedBy != nil {
			r.Actor = *g.RevokedBy
		}
		return s.record(ctx, r)
	case StateExpired:
		return s.record(ctx, audit.Record{Time: g.EndsAt, Event: EventExpired, Tenant: g.Tenant, DomainID: g.Customer,
			GrantID: g.ID, Detail: "ended " + g.EndsAt.Format(time.RFC3339)})
	}
	return nil
}

// RecordSwitch audits staff switching into (in) or back out of the
// customer's console under g. Switching in needs the grant to be active
// at the service's clock and staff to be staff of the grant's tenant;
// switching out is always recorded. requestID is the request's id (may be
// ""). Errors: ErrState (switching in under a grant that is not active),
// ErrNotYourGrant, ErrInvalidArgument, the sink's error (the gateway
// must then refuse the switch).
func (s *Service) RecordSwitch(ctx context.Context, g Grant, staff authz.Subject, in bool, requestID string) error {
	if err := checkIDs(g.Tenant, g.Customer); err != nil {
		return err
	}
	if !ValidGrantID(g.ID) {
		return fmt.Errorf("%w: grant id %q", ErrInvalidArgument, g.ID)
	}
	if err := checkStaff(g.Tenant, staff, false); err != nil {
		return err
	}
	now := s.clock()
	ev := EventSwitchedOut
	if in {
		ev = EventSwitchedIn
		if st := g.StateAt(now); st != StateApproved {
			return fmt.Errorf("%w: grant %s is %s", ErrState, g.ID, st)
		}
	}
	return s.record(ctx, audit.Record{ID: g.ID + "-" + idPart(staff.User), Time: now, Event: ev, Tenant: g.Tenant,
		DomainID: g.Customer, GrantID: g.ID, Actor: staff, RequestID: requestID,
		Detail: "until " + g.EndsAt.Format(time.RFC3339)})
}

// idPart keeps the characters of u an audit id may hold.
func idPart(u string) string {
	var b strings.Builder
	for _, r := range u {
		if r < 128 && (r == '-' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			b.WriteRune(r)
		}
		if b.Len() >= 60 {
			break
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// Events returns the grant events of tenant, oldest first; customer ""
// means every customer, otherwise only that customer's (the customer's
// side). Cost: one List of the stream and one read per record. Errors:
// ErrInvalidArgument, the reader's (wrapped); the configured sink must be
// an audit.Reader.
func (s *Service) Events(ctx context.Context, tenant, customer string) ([]audit.Record, error) {
	if err := checkIDs(tenant, customer); err != nil {
		return nil, err
	}
	rd, ok := s.audit.(audit.Reader)
	if !ok {
		return nil, errors.New("delegation: the configured audit sink cannot be read back")
	}
	recs, err := rd.Records(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("delegation: read audit: %w", err)
	}
	if customer == "" {
		return recs, nil
	}
	out := recs[:0]
	for _, r := range recs {
		if r.DomainID == customer {
			out = append(out, r)
		}
	}
	return out, nil
}
