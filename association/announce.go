package association

import (
	"context"
	"time"

	"github.com/livery/livery/authz"
)

// Announcement kinds: what people are told about.
const (
	// KindAccepted, KindDeclined: the customer's answer to an invitation,
	// for the partner.
	KindAccepted = "association.invitation_accepted"
	KindDeclined = "association.invitation_declined"
	// KindExpired: an online invitation passed its 7 days unanswered, for
	// the partner (SweepExpired).
	KindExpired = "association.invitation_expired"
	// KindChangeRequested: a type change or unbinding awaits the customer.
	KindChangeRequested = "association.change_requested"
	// KindChangeConfirmed, KindChangeRefused: the customer's answer, for
	// the partner.
	KindChangeConfirmed = "association.change_confirmed"
	KindChangeRefused   = "association.change_refused"
)

// Audiences of an announcement.
const (
	AudienceCustomer = "customer"
	AudiencePartner  = "partner"
)

// Announcement is something a person should learn about.
type Announcement struct {
	Kind       string
	Audience   string
	Tenant     string
	Customer   string
	Invitation string // the invitation (accepted, declined)
	Change     string // the change id (change kinds)
	Actor      authz.Subject
	At         time.Time
}

// Announcer is told what people should learn about (e.g. the notifier).
// It is called after the change is durable, by the call that completed it
// (at most once: a crash between the two loses the announcement, never
// duplicates it). It must not block for long.
type Announcer interface {
	Announce(ctx context.Context, a Announcement)
}

var effectKinds = map[string]struct{ kind, audience string }{
	EventAssociated:      {KindAccepted, AudiencePartner},
	EventChangeRequested: {KindChangeRequested, AudienceCustomer},
	EventChangeConfirmed: {KindChangeConfirmed, AudiencePartner},
	EventChangeRefused:   {KindChangeRefused, AudiencePartner},
}

// announceEffect announces the effect e of b just carried out.
func (s *Service) announceEffect(ctx context.Context, b Binding, e effect) {
	k, ok := effectKinds[e.Event]
	if !ok || s.announcer == nil {
		return
	}
	a := Announcement{Kind: k.kind, Audience: k.audience, Tenant: b.Tenant, Customer: b.Customer, Actor: e.Actor, At: e.At}
	if e.Event == EventAssociated {
		a.Invitation = e.ID
	} else {
		a.Change = e.ID
	}
	s.announcer.Announce(context.WithoutCancel(ctx), a)
}

func (s *Service) announce(ctx context.Context, a Announcement) {
	if s.announcer != nil {
		s.announcer.Announce(context.WithoutCancel(ctx), a)
	}
}

// SweepExpired announces, once each, the online invitations of tenant
// that expired unanswered by now (KindExpired, for the partner): the
// expiry is lazy (StateAt), so nothing else notices it. The mark is
// stored by compare-and-swap before the announcement, so two instances
// sweeping at once announce it once; a crash in between loses that one
// announcement, never duplicates it. It returns how many it announced.
// Errors: ErrInvalid, the store's (the sweep stops; the next one goes on).
func (s *Service) SweepExpired(ctx context.Context, tenant string, now time.Time) (int, error) {
	list, err := s.List(ctx, tenant)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, inv := range list {
		if inv.StateAt(now) != StateExpired || inv.ExpiryAnnounced.Equal(inv.ExpiresAt) {
			continue
		}
		marked := false
		got, err := s.swap(ctx, tenant, inv.ID, func(cur Invitation) (Invitation, bool, error) {
			marked = false // this attempt's verdict (a lost race re-reads)
			if cur.StateAt(now) != StateExpired || cur.ExpiryAnnounced.Equal(cur.ExpiresAt) {
				return cur, false, nil
			}
			cur.ExpiryAnnounced, marked = cur.ExpiresAt, true
			return cur, true, nil
		})
		if err != nil {
			return n, err
		}
		if marked {
			s.announce(ctx, Announcement{Kind: KindExpired, Audience: AudiencePartner, Tenant: tenant,
				Customer: got.ForCustomer, Invitation: got.ID, At: got.ExpiresAt})
			n++
		}
	}
	return n, nil
}
