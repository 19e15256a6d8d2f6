package association

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livery/livery/authz"
)

// Period is one manager's assignment to one customer: [From, To), To zero
// while it lasts.
type Period struct {
	Manager string         `json:"manager"`
	From    time.Time      `json:"from"`
	To      time.Time      `json:"to,omitzero"`
	FromBy  authz.Subject  `json:"from_by"`
	ToBy    *authz.Subject `json:"to_by,omitempty"`
}

// Covers reports whether p overlaps [start, end).
func (p Period) Covers(start, end time.Time) bool {
	return p.From.Before(end) && (p.To.IsZero() || p.To.After(start))
}

// periodsDoc is a customer's manager history, stored at
// association/tenants/<tenant>/managers/<customer>.json (CAS).
type periodsDoc struct {
	Customer string   `json:"customer"`
	Periods  []Period `json:"periods"`
}

func checkManager(m string) error {
	if m == "" || !utf8.ValidString(m) || utf8.RuneCountInString(m) > 64 || strings.ContainsFunc(m, func(r rune) bool { return r < 0x20 }) {
		return wrap(ErrInvalid, "manager id %q", m)
	}
	return nil
}

// SetManagers records that customer's managers in tenant are now managers:
// a period opens for each new one and closes for each one no longer in
// the list. Call it after the assignment (tenants.Assignments.Assign,
// which checks the staff directory); it is idempotent (the same list
// again changes nothing). Errors: ErrInvalid, ErrBusy, a store or audit
// error (a retry with the same list completes it).
func (s *Service) SetManagers(ctx context.Context, tenant, customer string, managers []string, actor authz.Subject) ([]Period, error) {
	if !ValidID(tenant) || !ValidID(customer) {
		return nil, wrap(ErrInvalid, "tenant %q, customer %q", tenant, customer)
	}
	for _, m := range managers {
		if err := checkManager(m); err != nil {
			return nil, err
		}
	}
	// The by-manager index first (create-only, empty of meaning beyond
	// "look at this customer"), so the period is always findable.
	for _, m := range managers {
		if _, err := s.put(ctx, managerIndexKey(tenant, m, customer), struct{}{}, createOnly()); err != nil && !isPrecondition(err) {
			return nil, fmt.Errorf("association: store manager index: %w", err)
		}
	}
	now := s.clock()
	key := periodsKey(tenant, customer)
	for range 16 {
		doc, etag, _, err := getJSON[periodsDoc](ctx, s.store, key)
		if err != nil {
			return nil, err
		}
		doc.Customer = customer
		var opened, closed []string
		for i := range doc.Periods {
			p := &doc.Periods[i]
			if p.To.IsZero() && !slices.Contains(managers, p.Manager) {
				p.To, p.ToBy = now, &actor
				closed = append(closed, p.Manager)
			}
		}
		for _, m := range managers {
			if !slices.ContainsFunc(doc.Periods, func(p Period) bool { return p.Manager == m && p.To.IsZero() }) && !slices.Contains(opened, m) {
				doc.Periods = append(doc.Periods, Period{Manager: m, From: now, FromBy: actor})
				opened = append(opened, m)
			}
		}
		if len(opened)+len(closed) == 0 {
			// Nothing to change; (re)write the audit record of the last
			// change, in case the call that made it failed to.
			return doc.Periods, s.recordPeriods(ctx, tenant, doc)
		}
		_, err = s.put(ctx, key, doc, condition(etag))
		if isPrecondition(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("association: store manager periods: %w", err)
		}
		return doc.Periods, s.recordPeriods(ctx, tenant, doc)
	}
	return nil, wrap(ErrBusy, "manager periods of %s", customer)
}

// History returns customer's manager periods in tenant, oldest first.
// Errors: ErrInvalid, a store error.
func (s *Service) History(ctx context.Context, tenant, customer string) ([]Period, error) {
	if !ValidID(tenant) || !ValidID(customer) {
		return nil, wrap(ErrInvalid, "tenant %q, customer %q", tenant, customer)
	}
	doc, _, _, err := getJSON[periodsDoc](ctx, s.store, periodsKey(tenant, customer))
	if err != nil {
		return nil, err
	}
	out := doc.Periods
	if out == nil {
		out = []Period{}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	return out, nil
}

// dayOf is the calendar day of d in d's location, as [start, end).
func dayOf(d time.Time) (time.Time, time.Time) {
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, d.Location())
	return start, start.AddDate(0, 0, 1)
}

// ManagersOn returns the managers customer had at any time on the
// calendar day of d (in d's location), sorted. Errors: as History's.
func (s *Service) ManagersOn(ctx context.Context, tenant, customer string, d time.Time) ([]string, error) {
	ps, err := s.History(ctx, tenant, customer)
	if err != nil {
		return nil, err
	}
	start, end := dayOf(d)
	out := []string{}
	for _, p := range ps {
		if p.Covers(start, end) && !slices.Contains(out, p.Manager) {
			out = append(out, p.Manager)
		}
	}
	sort.Strings(out)
	return out, nil
}

// CustomersOn returns the customers manager managed at any time on the
// calendar day of d (in d's location), sorted. Cost: one List of the
// manager's index and one read per customer ever assigned to them.
// Errors: ErrInvalid, a store error.
func (s *Service) CustomersOn(ctx context.Context, tenant, manager string, d time.Time) ([]string, error) {
	if !ValidID(tenant) {
		return nil, wrap(ErrInvalid, "tenant %q", tenant)
	}
	if err := checkManager(manager); err != nil {
		return nil, err
	}
	prefix := managerIndexPrefix(tenant, manager)
	objs, err := s.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("association: list manager index: %w", err)
	}
	start, end := dayOf(d)
	out := []string{}
	for _, o := range objs {
		c := strings.TrimSuffix(strings.TrimPrefix(o.Key, prefix), ".json")
		ps, err := s.History(ctx, tenant, c)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(ps, func(p Period) bool { return p.Manager == manager && p.Covers(start, end) }) {
			out = append(out, c)
		}
	}
	return out, nil
}

// recordPeriods audits the last change of doc: the periods opened or
// closed at its latest time. The record's id and time derive from doc, so
// writing it again stores it once.
func (s *Service) recordPeriods(ctx context.Context, tenant string, doc periodsDoc) error {
	var last time.Time
	for _, p := range doc.Periods {
		last = maxTime(last, maxTime(p.From, p.To))
	}
	if last.IsZero() {
		return nil
	}
	var opened, closed []string
	var actor authz.Subject
	for _, p := range doc.Periods {
		if p.From.Equal(last) {
			opened, actor = append(opened, p.Manager), p.FromBy
		}
		if p.To.Equal(last) {
			closed = append(closed, p.Manager)
			if p.ToBy != nil {
				actor = *p.ToBy
			}
		}
	}
	return s.record(ctx, auditEvent{Event: EventManagerPeriod, ID: doc.Customer + "-" + hashHex(fmt.Sprint(opened, closed))[:16],
		At: last, Tenant: tenant, Customer: doc.Customer, Actor: actor,
		Detail: fmt.Sprintf("opened %q; closed %q", opened, closed)})
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
