package delegation

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Reminder thresholds: an active grant is announced once when it ends
// within 7 days and once within 1 day (only thresholds shorter than the
// grant's duration count; when both apply at once only the 1-day one is
// announced).
var reminderThresholds = []struct {
	d    time.Duration
	name string
	kind string
}{
	{24 * time.Hour, "1d", KindEnding1d},
	{7 * 24 * time.Hour, "7d", KindEnding7d},
}

// Reminder is one "grant ending soon" announcement made by Reminders.
type Reminder struct {
	Kind  string        `json:"kind"`
	Grant Grant         `json:"grant"`
	Left  time.Duration `json:"left"`
}

// Reminders is the gateway's periodic sweep of tenant at now: it records
// grants that ended by time (audit, active pointer cleared, Notifier
// told) and announces each active grant ending within 7 days and within
// 1 day, once per grant and threshold (a create-only marker under
// delegation/<tenant>/reminders/ is written before announcing, so
// concurrent or repeated sweeps announce once; a crash between the two
// loses that reminder). It returns the reminders announced by this call.
// Cost: one List of the tenant's active pointers, then per customer two
// reads, plus a write per reminder. Errors: ErrInvalidArgument, a store
// or audit error (the sweep stops there; run it again).
func (s *Service) Reminders(ctx context.Context, tenant string, now time.Time) ([]Reminder, error) {
	if err := checkIDs(tenant, ""); err != nil {
		return nil, err
	}
	now = now.UTC()
	prefix := activePrefix(tenant)
	objs, err := s.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("delegation: list active grants: %w", err)
	}
	var out []Reminder
	for _, o := range objs {
		customer, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, prefix), ".json")
		if !ok || !ValidID(customer) {
			continue
		}
		var ptrs pointers
		if err := s.settleActive(ctx, tenant, customer, &ptrs); err != nil {
			return out, err
		}
		g := ptrs.active
		if g == nil || !g.Active(now) {
			continue
		}
		left := g.EndsAt.Sub(now)
		announced := false
		for _, th := range reminderThresholds {
			if g.Duration <= th.d || left > th.d {
				continue
			}
			_, err := s.putJSON(ctx, reminderKey(tenant, g.ID, th.name), struct {
				At time.Time `json:"at"`
			}{now}, createOnly())
			switch {
			case isPrecondition(err):
				announced = true // this or a shorter one was told before
				continue
			case err != nil:
				return out, fmt.Errorf("delegation: store reminder: %w", err)
			}
			if announced {
				continue
			}
			announced = true
			r := Reminder{Kind: th.kind, Grant: *g, Left: left}
			out = append(out, r)
			s.announce(ctx, Announcement{Kind: th.kind, Audience: AudienceBoth, Tenant: tenant, Customer: customer, Grant: *g, At: now})
		}
	}
	return out, nil
}
