package delegation

import (
	"context"
	"time"
)

// Announcement kinds: what people are told about.
const (
	// KindRequested: a new request, for the customer.
	KindRequested = "delegation.requested"
	// KindApproved, KindRejected: the customer's answer, for the partner.
	KindApproved = "delegation.approved"
	KindRejected = "delegation.rejected"
	// KindRevoked: a grant ended early, for the other side (the partner
	// when the customer revoked, the customer when the partner did).
	KindRevoked = "delegation.revoked"
	// KindEnding7d, KindEnding1d: an active grant ends within 7 days / 1
	// day, for both sides (see Reminders).
	KindEnding7d = "delegation.ending_7d"
	KindEnding1d = "delegation.ending_1d"
)

// Audiences of an announcement.
const (
	AudienceCustomer = "customer"
	AudiencePartner  = "partner"
	AudienceBoth     = "both"
)

// Announcement is something a person should learn about. Actor is the
// user id of whoever caused it ("" for a reminder).
type Announcement struct {
	Kind     string
	Audience string
	Tenant   string
	Customer string
	Grant    Grant
	Actor    string
	At       time.Time
}

// Announcer is told each Announcement once the change it describes is
// complete. Announce must not block: delivery is its own business and can
// never fail or undo the change. A change completed by crash recovery is
// announced by the call that completes it; a process dying between
// completing and announcing loses the announcement (at most once).
type Announcer interface {
	Announce(ctx context.Context, a Announcement)
}

func (s *Service) announce(ctx context.Context, a Announcement) {
	if s.announcer != nil {
		s.announcer.Announce(context.WithoutCancel(ctx), a)
	}
}

// announceDecision announces an approval or rejection to the partner
// (withdrawals are the partner's own doing; an expired request is told to
// nobody).
func (s *Service) announceDecision(ctx context.Context, g Grant) {
	a := Announcement{Audience: AudiencePartner, Tenant: g.Tenant, Customer: g.Customer, Grant: g, At: g.DecidedAt}
	if g.DecidedBy != nil {
		a.Actor = g.DecidedBy.User
	}
	switch g.State {
	case StateApproved, StateRevoked, StateExpired:
		a.Kind = KindApproved
	case StateRejected:
		a.Kind = KindRejected
	default:
		return
	}
	s.announce(ctx, a)
}

// announceEnd announces a revocation to the other side (expiry is
// foreseen by the reminders and not announced).
func (s *Service) announceEnd(ctx context.Context, g Grant) {
	if g.State != StateRevoked {
		return
	}
	a := Announcement{Kind: KindRevoked, Audience: AudienceCustomer, Tenant: g.Tenant, Customer: g.Customer, Grant: g, At: g.RevokedAt}
	if g.RevokedBy != nil {
		a.Actor = g.RevokedBy.User
		if isCustomerRole(*g.RevokedBy) {
			a.Audience = AudiencePartner
		}
	}
	s.announce(ctx, a)
}
