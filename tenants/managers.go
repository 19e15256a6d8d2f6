package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
)

// MaxManagers is how many customer managers one customer may have.
const MaxManagers = 20

// Assignments assigns customer managers, only among the tenant's known
// staff (StaffDirectory), and audits every change. The admin API and the
// staff UI both call it.
type Assignments struct {
	Customers *Customers
	Staff     *StaffDirectory
	Audit     audit.Sink
	Logger    *slog.Logger
	// Periods, when set, is told every assignment so that who managed a
	// customer when is kept (the association service's manager periods).
	Periods ManagerPeriods
}

// ManagerPeriods records the managers a customer has from now on: a
// period opens for each new one and closes for each one removed. It must
// be idempotent: Assign calls it again when a retry finds the assignment
// already stored.
type ManagerPeriods interface {
	Record(ctx context.Context, tenant, customer string, managers []string, actor authz.Subject) error
}

// Assign replaces the managers of the tenant's customer domainID with
// managers (duplicates dropped, order kept; empty removes every manager)
// and records an EventManagersSet audit record with the actor and the
// managers before and after. A manager that is not already assigned to the
// customer must be a member of the tenant's staff directory; ids assigned
// before stay allowed (assignments older than the directory keep working).
// Nothing is written unless every id is acceptable.
//
// Errors: a *FieldError (ErrInvalid) for a malformed id or more than
// MaxManagers; an *UnknownStaffError (ErrUnknownStaff) naming every
// unknown id; ErrNotFound when the tenant has no such active customer;
// ErrUnavailable (wrapped) when the store or index fails, including when
// the change was made but could not be audited (the message says so).
func (a *Assignments) Assign(ctx context.Context, actor Actor, tenant, domainID string, managers []string) (*Customer, error) {
	want := make([]string, 0, len(managers))
	for _, m := range managers {
		if err := checkText("managers", m, 64, true); err != nil {
			return nil, err
		}
		if !slices.Contains(want, m) {
			want = append(want, m)
		}
		if len(want) > MaxManagers {
			return nil, invalid("managers", "at most %d managers per customer", MaxManagers)
		}
	}
	cur, err := a.Customers.ByDomainID(ctx, tenant, domainID)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, ErrNotFound
	}
	var added []string
	for _, m := range want {
		if !slices.Contains(cur.Managers, m) {
			added = append(added, m)
		}
	}
	unknown, err := a.Staff.Unknown(ctx, tenant, added)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, &UnknownStaffError{Tenant: tenant, IDs: unknown}
	}
	before, after, err := a.Customers.replaceManagers(ctx, tenant, cur, func(prev []string) ([]string, error) {
		// A concurrent change may have removed an id we allowed as already
		// assigned: check the ids new to the stored record again.
		var fresh []string
		for _, m := range want {
			if !slices.Contains(prev, m) && !slices.Contains(added, m) {
				fresh = append(fresh, m)
			}
		}
		unknown, err := a.Staff.Unknown(ctx, tenant, fresh)
		if err != nil {
			return nil, err
		}
		if len(unknown) > 0 {
			return nil, &UnknownStaffError{Tenant: tenant, IDs: unknown}
		}
		return want, nil
	})
	if err != nil {
		return nil, err
	}
	detail, _ := json.Marshal(struct {
		Before []string `json:"before"`
		After  []string `json:"after"`
	}{nonNil(before), nonNil(after.Managers)})
	if err := a.Audit.Record(ctx, audit.Record{Event: EventManagersSet, Tenant: tenant, Actor: actor.Subject,
		DomainID: after.DomainID, XAccountType: after.XAccountType, XAccountID: after.XAccountID, Detail: string(detail),
		RequestID: actor.RequestID, Source: actor.Source, Result: "ok"}); err != nil {
		a.logger().Error("managers assigned but audit record failed", "tenant", tenant, "customer", domainID,
			"user", actor.Subject.User, "err", err)
		return nil, unavailable("managers assigned but not audited", err)
	}
	if a.Periods != nil {
		if err := a.Periods.Record(ctx, tenant, after.DomainID, nonNil(after.Managers), actor.Subject); err != nil {
			a.logger().Error("managers assigned but their periods not recorded; the same assignment again records them",
				"tenant", tenant, "customer", domainID, "err", err)
			return nil, unavailable("managers assigned but their periods not recorded", err)
		}
	}
	return after, nil
}

func (a *Assignments) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// replaceManagers sets the managers of cur (an active customer) to what
// decide returns for the stored ones, with compare-and-swap, and updates
// the index. It returns the managers before and the customer after.
func (s *Customers) replaceManagers(ctx context.Context, tenant string, found *Customer, decide func(prev []string) ([]string, error)) ([]string, *Customer, error) {
	key := CustomerKey(tenant, found.XAccountType, found.XAccountID)
	for attempt := 0; attempt < 5; attempt++ {
		cur, obj, err := objstore.GetJSON[Customer](ctx, s.o.Store, key)
		if err != nil {
			return nil, nil, unavailable("read customer", err)
		}
		if cur.State != StateActive {
			// Indexed just before its activation, and not active yet.
			return nil, nil, invalid("customer", "no such customer")
		}
		before := cur.Managers
		next, err := decide(before)
		if err != nil {
			return nil, nil, err
		}
		cur.Managers = append([]string(nil), next...)
		_, err = objstore.PutJSON(ctx, s.o.Store, key, cur, objstore.PutOptions{IfMatch: obj.ETag})
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			continue
		}
		if err != nil {
			return nil, nil, unavailable("write customer", err)
		}
		s.index(ctx, &cur, false)
		return before, &cur, nil
	}
	return nil, nil, unavailable("set managers", fmt.Errorf("too much contention"))
}
