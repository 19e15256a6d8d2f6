package staffui

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// queueItem is a submission in the review queue, with its overdue state.
type queueItem struct {
	workflow.Submission
	Name    string // the tenant's display name
	Overdue bool
}

// brandingState is one tenant's branding at a glance.
type brandingState struct {
	Tenant   string
	Name     string
	Draft    workflow.Draft
	HasDraft bool
	Pending  *workflow.Submission
	Overdue  bool
	Last     *workflow.Submission // the latest decided submission
	Live     *workflow.Version
}

type dashboardData struct {
	Queue        []queueItem
	Overdue      int
	Partner      *brandingState
	Customers    []tenants.Customer
	CustomerN    int
	Mine         bool // Customers are the manager's own
	CanCustomers bool
}

// dashboard is the home page, by role: the review queue (operator), the
// partner's branding state and customers (partner admin), my customers
// (customer manager).
func (u *UI) dashboard(c *fiber.Ctx) error {
	p, _ := web.PrincipalOf(c)
	page := u.base(c, "dashboard.title", p.Tenant)
	var d dashboardData
	ctx := c.UserContext()
	if u.allowed(c, http.MethodGet, "/reviews", "") {
		q, err := u.queueItems(c)
		if err != nil {
			return err
		}
		for _, it := range q {
			if it.Overdue {
				d.Overdue++
			}
		}
		d.Queue = q[:min(len(q), 5)]
	}
	if t := p.Tenant; t != "" {
		if u.allowed(c, http.MethodGet, tenantPath(t, "/branding/draft"), t) {
			st, err := u.state(c, t)
			if err != nil {
				return err
			}
			d.Partner = &st
		}
		if u.o.Customers != nil && u.allowed(c, http.MethodGet, tenantPath(t, "/customers"), t) {
			d.CanCustomers = true
			q := tenants.Query{Limit: 5}
			if !canSeeAll(p, t) {
				q.Managers, d.Mine = []string{p.User}, true
			}
			list, n, err := u.o.Customers.List(ctx, t, q)
			if err != nil {
				return customerError(err)
			}
			d.Customers, d.CustomerN = list, n
		}
	}
	page.Data = d
	return u.page(c, "dashboard", page)
}

// queueItems is the review queue, oldest submission first.
func (u *UI) queueItems(c *fiber.Ctx) ([]queueItem, error) {
	q, err := u.o.Reviews.Queue(c.UserContext())
	if err != nil {
		return nil, brandingError(err)
	}
	now := u.now()
	out := make([]queueItem, 0, len(q))
	for _, s := range q {
		out = append(out, queueItem{Submission: s, Name: u.tenantName(c, s.Tenant), Overdue: !s.Due.IsZero() && now.After(s.Due)})
	}
	slices.SortStableFunc(out, func(a, b queueItem) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	return out, nil
}

// state gathers tenant t's draft, pending submission, last decision and
// live version.
func (u *UI) state(c *fiber.Ctx, t string) (brandingState, error) {
	ctx := c.UserContext()
	st := brandingState{Tenant: t, Name: u.tenantName(c, t)}
	d, err := u.o.Drafts.Draft(ctx, t)
	if err != nil {
		return st, brandingError(err)
	}
	st.Draft, st.HasDraft = d, d.ETag != ""
	subs, err := u.o.Submissions.Submissions(ctx, t)
	if err != nil {
		return st, brandingError(err)
	}
	for i := range subs {
		s := subs[i]
		switch {
		case s.Status == workflow.StatusPending && st.Pending == nil:
			st.Pending = &s
			st.Overdue = !s.Due.IsZero() && u.now().After(s.Due)
		case s.Status != workflow.StatusPending && (st.Last == nil || decidedAt(s).After(decidedAt(*st.Last))):
			st.Last = &s
		}
	}
	live, err := u.o.History.Live(ctx, t)
	if err != nil && !errors.Is(err, workflow.ErrNotFound) {
		return st, brandingError(err)
	}
	st.Live = live
	return st, nil
}

func decidedAt(s workflow.Submission) time.Time {
	if !s.DecidedAt.IsZero() {
		return s.DecidedAt
	}
	return s.SubmittedAt
}

// tenantName is t's display name in the page's language (the id when it
// has none).
func (u *UI) tenantName(c *fiber.Ctx, t string) string {
	tt, ok := u.o.Tenants.ByID(t)
	if !ok {
		return t
	}
	if lang(c) == "zh" && tt.Name.ZH != "" {
		return tt.Name.ZH
	}
	if tt.Name.EN != "" {
		return tt.Name.EN
	}
	if tt.Name.ZH != "" {
		return tt.Name.ZH
	}
	return t
}

// tenantsPage is every tenant's branding state (operators).
func (u *UI) tenantsPage(c *fiber.Ctx) error {
	if err := u.authorizeAs(c, http.MethodGet, "/reviews"); err != nil {
		return err
	}
	page := u.base(c, "tenants.title", "")
	var rows []brandingState
	for _, t := range u.o.Tenants.All() {
		st, err := u.state(c, t.ID)
		if err != nil {
			return err
		}
		rows = append(rows, st)
	}
	sortRows(c, rows)
	page.Data = map[string]any{"Rows": rows, "Sort": c.Query("sort", "tenant")}
	return u.page(c, "tenants", page)
}

// sortRows orders the tenants table by the "sort" query parameter:
// tenant (default), pending (oldest pending first), live (newest version
// first).
func sortRows(c *fiber.Ctx, rows []brandingState) {
	switch c.Query("sort") {
	case "pending":
		slices.SortStableFunc(rows, func(a, b brandingState) int {
			switch {
			case a.Pending == nil && b.Pending == nil:
				return 0
			case a.Pending == nil:
				return 1
			case b.Pending == nil:
				return -1
			}
			return a.Pending.SubmittedAt.Compare(b.Pending.SubmittedAt)
		})
	case "live":
		slices.SortStableFunc(rows, func(a, b brandingState) int { return liveN(b) - liveN(a) })
	default:
		slices.SortStableFunc(rows, func(a, b brandingState) int {
			if a.Tenant < b.Tenant {
				return -1
			}
			if a.Tenant > b.Tenant {
				return 1
			}
			return 0
		})
	}
}

func liveN(s brandingState) int {
	if s.Live == nil {
		return 0
	}
	return s.Live.Number
}
