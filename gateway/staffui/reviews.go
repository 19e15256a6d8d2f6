package staffui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
)

// queue is the operator's review queue, oldest first, overdue highlighted.
func (u *UI) queue(c *fiber.Ctx) error {
	if err := u.authorizeAs(c, http.MethodGet, "/reviews"); err != nil {
		return err
	}
	q, next, err := u.queueItems(c, c.Query("c"), pageSize)
	if err != nil {
		return err
	}
	page := u.base(c, "queue.title", "")
	page.Data = map[string]any{"Queue": q, "Pager": cursorPager(c, page, "c", next, len(q))}
	return u.page(c, "queue", page)
}

func reviewPath(t string) string { return Prefix + "reviews/" + url.PathEscape(t) }

// reviewData is the review page: live and proposed chrome side by side
// (zh and en), the field diff and the decision forms.
type reviewData struct {
	Tenant  string
	Name    string
	Review  workflow.Review
	Overdue bool
	Preview string
}

// review shows the tenant's pending submission against its live version.
func (u *UI) review(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, "/reviews/"+t); err != nil {
		return err
	}
	if _, ok := u.o.Tenants.ByID(t); !ok {
		return web.Errorf(http.StatusNotFound, "unknown_tenant", "No such partner.")
	}
	r, err := u.o.Reviews.Review(c.UserContext(), t)
	if err != nil {
		if isNotFound(err) || errIs(err, workflow.ErrNoPending) {
			return done(c, Prefix+"reviews", "done.nothing_pending")
		}
		return brandingError(err)
	}
	page := u.base(c, "review.title", t)
	page.TitleArg = u.tenantName(c, t)
	d := reviewData{Tenant: t, Name: page.TitleArg, Review: r, Overdue: !r.Submission.Due.IsZero() && u.now().After(r.Submission.Due)}
	if u.o.PreviewPath != nil {
		d.Preview = u.o.PreviewPath(t, "pending")
	}
	page.Data = d
	return u.page(c, "review", page)
}

// approve approves the reviewed submission (maker–checker is the
// workflow's: the submitter or an editor cannot).
func (u *UI) approve(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, "/reviews/"+t+"/approve"); err != nil {
		return err
	}
	if _, err := u.o.Reviews.Approve(c.UserContext(), t, c.FormValue("submission_id"), actor(c), c.FormValue("note")); err != nil {
		return back(c, reviewPath(t), brandingError(err))
	}
	return done(c, Prefix+"reviews", "done.approved")
}

// reject rejects it with a mandatory reason, after a confirmation.
func (u *UI) reject(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, "/reviews/"+t+"/reject"); err != nil {
		return err
	}
	reason := c.FormValue("reason")
	if !validReason(reason) {
		return back(c, reviewPath(t)+"#reject", brandingError(workflow.ErrReasonRequired))
	}
	if !confirmed(c) {
		return u.confirm(c, confirmData{Action: c.Path(), Text: "confirm.reject", Arg: u.tenantName(c, t), Back: reviewPath(t), Button: "action.reject"})
	}
	if _, err := u.o.Reviews.Reject(c.UserContext(), t, c.FormValue("submission_id"), actor(c), reason); err != nil {
		return back(c, reviewPath(t), brandingError(err))
	}
	return done(c, Prefix+"reviews", "done.rejected")
}

// validReason is the workflow's reason rule, checked before the
// confirmation step so that it is not asked for in vain.
func validReason(s string) bool {
	n := len([]rune(trimSpace(s)))
	return n >= 1 && n <= workflow.MaxReasonRunes
}

// history is a tenant's submissions (with reviewers' reasons) and
// versions, and (for operators) rollback.
func (u *UI) history(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/branding/versions")); err != nil {
		return err
	}
	subs, sNext, err := u.o.Submissions.SubmissionsPage(c.UserContext(), t, workflow.Page{Cursor: c.Query("s"), Limit: pageSize})
	if err != nil {
		return pageError(err)
	}
	vs, vNext, err := u.o.History.VersionsPage(c.UserContext(), t, workflow.Page{Cursor: c.Query("v"), Limit: pageSize})
	if err != nil {
		return pageError(err)
	}
	live, err := u.o.History.Live(c.UserContext(), t)
	if err != nil && !isNotFound(err) {
		return brandingError(err)
	}
	page := u.base(c, "history.title", t)
	page.TitleArg = u.tenantName(c, t)
	liveN := 0
	if live != nil {
		liveN = live.Number
	}
	page.Data = map[string]any{"Tenant": t, "Submissions": subs, "Versions": vs, "Live": liveN,
		"SubPager": cursorPager(c, page, "s", sNext, len(subs)), "VerPager": cursorPager(c, page, "v", vNext, len(vs)),
		"CanRollback": u.allowed(c, http.MethodPost, tenantPath(t, "/branding/rollback"), t)}
	return u.page(c, "history", page)
}

// rollback makes an earlier version live again (operators), with a
// reason and a confirmation.
func (u *UI) rollback(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/branding/rollback")); err != nil {
		return err
	}
	where := Prefix + "t/" + url.PathEscape(t) + "/branding/history"
	n, err := strconv.Atoi(c.FormValue("version"))
	if err != nil || n < 1 {
		return back(c, where, brandingError(workflow.ErrNotFound))
	}
	if !validReason(c.FormValue("reason")) {
		return back(c, where, brandingError(workflow.ErrReasonRequired))
	}
	if !confirmed(c) {
		return u.confirm(c, confirmData{Action: c.Path(), Text: "confirm.rollback", Arg: strconv.Itoa(n), Back: where, Button: "action.rollback"})
	}
	if _, err := u.o.History.Rollback(c.UserContext(), t, n, actor(c), c.FormValue("reason")); err != nil {
		return back(c, where, brandingError(err))
	}
	return done(c, where, "done.rolled_back")
}
