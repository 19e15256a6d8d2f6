package staffui

import (
	"net/http"
	"slices"
	"strings"

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

// brandingState is one tenant's branding at a glance: the workflow's
// overview, plus the draft itself for the editor.
type brandingState struct {
	workflow.TenantState
	Name     string
	HasDraft bool
}

// Overdue reports whether the pending submission is past its due date.
func (s brandingState) Overdue() bool { return s.Pending != nil && s.Pending.Overdue }

type dashboardData struct {
	Queue        []queueItem
	Pending      int  // submissions waiting (of the first MaxPageLimit)
	More         bool // more than Pending are waiting
	Overdue      int
	Partner      *brandingState
	Customers    []tenants.Customer
	CustomerN    int
	Mine         bool // Customers are the manager's own
	CanCustomers bool
	Team         []tenants.StaffMember
	CanTeam      bool
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
		q, next, err := u.queueItems(c, "", workflow.MaxPageLimit)
		if err != nil {
			return err
		}
		for _, it := range q {
			if it.Overdue {
				d.Overdue++
			}
		}
		d.Pending, d.More = len(q), next != ""
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
			q := tenants.Search{Limit: 5}
			if !canSeeAll(p, t) {
				q.Scope, d.Mine = []string{p.User}, true
			}
			res, err := u.o.Customers.Page(ctx, t, q)
			if err != nil {
				return customerError(err)
			}
			d.Customers, d.CustomerN = res.Customers, res.Total
		}
		if u.o.Staff != nil && u.allowed(c, http.MethodGet, tenantPath(t, "/staff"), t) {
			team, err := u.o.Staff.List(ctx, t)
			if err != nil {
				return customerError(err)
			}
			d.Team, d.CanTeam = team, true
		}
	}
	page.Data = d
	return u.page(c, "dashboard", page)
}

// queueItems is one page of the review queue (oldest submission first)
// and the cursor of the next.
func (u *UI) queueItems(c *fiber.Ctx, cursor string, limit int) ([]queueItem, string, error) {
	q, next, err := u.o.Reviews.QueuePage(c.UserContext(), workflow.Page{Cursor: cursor, Limit: limit})
	if err != nil {
		return nil, "", pageError(err)
	}
	out := make([]queueItem, 0, len(q))
	for _, e := range q {
		out = append(out, queueItem{Submission: e.Submission, Name: u.tenantName(c, e.Tenant), Overdue: e.Overdue})
	}
	return out, next, nil
}

// state is tenant t's branding overview.
func (u *UI) state(c *fiber.Ctx, t string) (brandingState, error) {
	sts, err := u.states(c, []string{t})
	if err != nil {
		return brandingState{}, err
	}
	return sts[0], nil
}

// states is the overview of ts, in order.
func (u *UI) states(c *fiber.Ctx, ts []string) ([]brandingState, error) {
	ov, err := u.o.Reviews.Overview(c.UserContext(), ts)
	if err != nil {
		return nil, brandingError(err)
	}
	out := make([]brandingState, len(ov))
	for i, o := range ov {
		out[i] = brandingState{TenantState: o, Name: u.tenantName(c, o.Tenant), HasDraft: o.Draft != nil}
	}
	return out, nil
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
	if err := u.authorizeAs(c, http.MethodGet, "/branding"); err != nil {
		return err
	}
	page := u.base(c, "tenants.title", "")
	var ids []string
	for _, t := range u.o.Tenants.All() {
		ids = append(ids, t.ID)
	}
	rows, err := u.states(c, ids)
	if err != nil {
		return err
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
		slices.SortStableFunc(rows, func(a, b brandingState) int { return strings.Compare(a.Tenant, b.Tenant) })
	}
}

func liveN(s brandingState) int {
	if s.Live == nil {
		return 0
	}
	return s.Live.Version
}
