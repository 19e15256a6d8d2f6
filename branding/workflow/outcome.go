package workflow

import (
	"context"
	"time"
)

// Outcome kinds: what the partner is told about.
const (
	OutcomeApproved   = "branding.approved"
	OutcomeRejected   = "branding.rejected"
	OutcomeRolledBack = "branding.rolled_back"
)

// Outcome is a decision the partner should learn about: an approval
// (Version is the new live version, Reason the approver's note), a
// rejection (Reason is the rejection reason) or a rollback (Version is the
// version made live again, Reason why). Actor is the operator's user id.
type Outcome struct {
	Tenant       string
	Kind         string
	SubmissionID string
	Version      int
	Reason       string
	Actor        string
	At           time.Time
}

// Announcer is told every Outcome once the decision is complete (an
// approval or rejection when its submission leaves the queue, a rollback
// once the live pointer changed). Announce must not block: delivery is its
// own business and can never fail or undo the decision. A decision
// completed by crash recovery is announced by the call that completes it;
// a process dying between completing and announcing loses the
// announcement.
type Announcer interface {
	Announce(ctx context.Context, o Outcome)
}

func outcomeOf(tenant string, sub Submission, d decision) Outcome {
	o := Outcome{Tenant: tenant, SubmissionID: sub.ID, Version: d.Version, Reason: d.Reason, Actor: d.By.User, At: d.At}
	switch d.Status {
	case StatusApproved:
		o.Kind = OutcomeApproved
	case StatusRejected:
		o.Kind = OutcomeRejected
	}
	return o
}

// announce tells the Announcer about o (withdrawals are the partner's own
// doing and are not announced).
func (s *Service) announce(ctx context.Context, o Outcome) {
	if s.announcer != nil && o.Kind != "" {
		s.announcer.Announce(context.WithoutCancel(ctx), o)
	}
}
