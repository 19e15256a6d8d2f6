package mypartners

import (
	"bytes"
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/web"
)

// view is what every page's template gets.
type view struct {
	Lang         string // "zh" or "en"
	CSRF         string
	Prefix       string
	ActivityPath string
	// Invitee: a cloud account not associated with the partner (yet); My
	// partners is not open to it, so its pages link no way back there.
	Invitee bool
}

// T translates a catalog key into the page's language.
func (v view) T(key string, args ...any) string { return tr(v.Lang, key, args...) }

func (d *door) view(c *fiber.Ctx, cu customer) view {
	v := view{Lang: render.Locale(c.Get(fiber.HeaderAcceptLanguage), c.Cookies(render.LocaleCookie)),
		Prefix: Prefix, ActivityPath: ActivityPath}
	if cu.sess != nil { // signed out: a page without forms
		v.CSRF, v.Invitee = csrfToken(cu.sess), inviteeSession(cu.sess)
	}
	return v
}

// grantView is one grant as the pages show it.
type grantView struct {
	V                                  view
	G                                  delegation.Grant
	Base                               string // grantsPath + id
	Scopes                             []string
	Duration, RequestedAt, Since, Ends string
	Left, RequestExpires, Ended, State string
	Note                               string
}

func (d *door) grantView(v view, g delegation.Grant, now time.Time) grantView {
	gv := grantView{V: v, G: g, Base: grantsPath + url.PathEscape(g.ID), Duration: humanDuration(v.Lang, g.Duration),
		RequestedAt: showTime(g.RequestedAt), Since: showTime(g.ApprovedAt), Ends: showTime(g.EndsAt),
		RequestExpires: showTime(g.RequestExpiresAt), Ended: showTime(g.EndedAt(now)),
		State: tr(v.Lang, "state."+string(g.StateAt(now)))}
	if g.EndsAt.After(now) {
		gv.Left = humanDuration(v.Lang, g.EndsAt.Sub(now))
	}
	for _, s := range g.Scopes {
		gv.Scopes = append(gv.Scopes, scopeLabel(v.Lang, s))
	}
	gv.Note = g.DecisionNote
	if g.RevokeReason != "" {
		gv.Note = g.RevokeReason
	}
	return gv
}

// render writes template name with data as a Document in the tenant's
// chrome (or the plain one).
func (d *door) render(c *fiber.Ctx, lang, title, name string, data any) error {
	return d.renderStatus(c, http.StatusOK, lang, title, name, data)
}

// renderStatus is render with the response's status.
func (d *door) renderStatus(c *fiber.Ctx, status int, lang, title, name string, data any) error {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return err
	}
	tag := "en"
	if lang == render.LocaleZH {
		tag = "zh-CN"
	}
	doc := web.Document{Status: status, Lang: tag, Title: title, CSS: pageCSS + assocCSS, Body: template.HTML(b.String())} // escaped by html/template
	if d.o.Document != nil {
		if err := d.o.Document(c, doc); err == nil {
			return nil
		}
		c.Response().ResetBody()
	}
	return web.PlainDocument(c, doc)
}

// overview is My partners: the partner, pending requests, active and past
// grants of the signed-in customer.
func (d *door) overview(c *fiber.Ctx) error {
	cu := customerOf(c)
	v := d.view(c, cu)
	gs, err := d.o.Grants.ForCustomer(c.UserContext(), cu.tenant, cu.subject.Customer)
	if err != nil {
		return grantError(err)
	}
	now := d.o.Now()
	evs, err := d.o.Grants.Events(c.UserContext(), cu.tenant, cu.subject.Customer)
	if err != nil {
		return grantError(err)
	}
	assoc, err := d.associationOf(c, cu, v)
	if err != nil {
		return err
	}
	data := struct {
		view
		Partner, Flash        string
		Pending, Active, Past []grantView
		Events                []eventView
		Association           *associationView
		AgreementsPath        string
	}{view: v, Partner: partnerName(c, v.Lang), Association: assoc}
	if d.o.Associations != nil {
		data.AgreementsPath = AgreementsPath
	}
	// The grant events (request, approval, switch in and out, revocation,
	// expiry), newest first: the customer's side of the audit trail.
	for i := len(evs) - 1; i >= 0 && len(data.Events) < maxEvents; i-- {
		e := evs[i]
		data.Events = append(data.Events, eventView{At: showTime(e.Time), Event: v.T("event." + e.Event), Who: cmp.Or(e.Actor.User, "—"), Grant: e.GrantID})
	}
	if k := c.Query("done"); k != "" {
		if _, ok := catalog["done."+k]; ok {
			data.Flash = v.T("done." + k)
		}
	}
	for _, g := range gs {
		gv := d.grantView(v, g, now)
		switch g.StateAt(now) {
		case delegation.StateRequested:
			data.Pending = append(data.Pending, gv)
		case delegation.StateApproved:
			data.Active = append(data.Active, gv)
		default:
			data.Past = append(data.Past, gv)
		}
	}
	return d.render(c, v.Lang, v.T("title"), "overview", data)
}

// maxEvents is how many grant events the overview shows.
const maxEvents = 30

// eventView is one grant event as the overview shows it.
type eventView struct{ At, Event, Who, Grant string }

// partnerName is the tenant's name in lang, with the other one beside it.
func partnerName(c *fiber.Ctx, lang string) string {
	t := web.TenantOf(c)
	zh, en := t.Name.ZH, t.Name.EN
	switch {
	case zh == "" || zh == en:
		return en
	case en == "":
		return zh
	case lang == render.LocaleZH:
		return zh + " (" + en + ")"
	}
	return en + " (" + zh + ")"
}

// confirmRevoke is the confirmation page of a revocation.
func (d *door) confirmRevoke(c *fiber.Ctx) error {
	cu := customerOf(c)
	g, err := d.grant(c, cu)
	if err != nil {
		return err
	}
	now := d.o.Now()
	if !g.Active(now) {
		return grantError(delegation.ErrState)
	}
	v := d.view(c, cu)
	return d.render(c, v.Lang, v.T("revoke.title"), "revoke", d.grantView(v, g, now))
}

// actionRow is one line of the activity log.
type actionRow struct {
	At, Actor, Method, Path, Result, Reason string
	Allowed                                 bool
}

// filter reads the activity filters from the query: actor, result
// (allowed|denied), since and until (UTC dates, until inclusive).
func filter(c *fiber.Ctx) (delegation.ActionFilter, string, string, error) {
	f := delegation.ActionFilter{Actor: strings.TrimSpace(c.Query("actor")), Allowed: c.Query("result")}
	if f.Allowed != "" && f.Allowed != "allowed" && f.Allowed != "denied" {
		return f, "", "", web.Errorf(http.StatusBadRequest, "bad_filter", "The result filter must be allowed or denied. / 结果筛选只能是“已允许”或“已拒绝”。")
	}
	since, until := c.Query("since"), c.Query("until")
	if since != "" {
		t, err := time.Parse(time.DateOnly, since)
		if err != nil {
			return f, "", "", web.Errorf(http.StatusBadRequest, "bad_filter", "The start date must be YYYY-MM-DD. / 起始日期格式应为 YYYY-MM-DD。")
		}
		f.Since = t
	}
	if until != "" {
		t, err := time.Parse(time.DateOnly, until)
		if err != nil {
			return f, "", "", web.Errorf(http.StatusBadRequest, "bad_filter", "The end date must be YYYY-MM-DD. / 截止日期格式应为 YYYY-MM-DD。")
		}
		f.Until = t.Add(24 * time.Hour)
	}
	return f, strings.Clone(since), strings.Clone(until), nil
}

// query is the filter as a query string (with cursor when set).
func query(f delegation.ActionFilter, since, until, cursor string) string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "result": f.Allowed, "since": since, "until": until, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// activity is one page of the customer's activity log, newest first.
func (d *door) activity(c *fiber.Ctx) error {
	cu := customerOf(c)
	v := d.view(c, cu)
	f, since, until, err := filter(c)
	if err != nil {
		return err
	}
	page, err := d.o.Grants.Actions(c.UserContext(), cu.tenant, cu.subject.Customer, f, strings.Clone(c.Query("cursor")), delegation.DefaultLimit)
	if err != nil {
		return grantError(err)
	}
	data := struct {
		view
		F                                delegation.ActionFilter
		Since, Until, ExportURL, NextURL string
		Rows                             []actionRow
	}{view: v, F: f, Since: since, Until: until, ExportURL: ExportPath + query(f, since, until, "")}
	if page.NextCursor != "" {
		data.NextURL = ActivityPath + query(f, since, until, page.NextCursor)
	}
	for _, a := range page.Actions {
		r := actionRow{At: a.At.UTC().Format("2006-01-02 15:04:05"), Actor: a.Actor.User, Method: a.Method, Path: a.Path,
			Reason: reasonText(v.Lang, a.Reason), Allowed: a.Allowed, Result: v.T("allowed")}
		if !a.Allowed {
			r.Result = v.T("denied")
		}
		data.Rows = append(data.Rows, r)
	}
	return d.render(c, v.Lang, v.T("activity"), "activity", data)
}

// export is the activity log as CSV (delegation.WriteActionsCSV: formula
// cells neutralized), with the page's filters, newest first, at most
// MaxExportRows rows (the newest).
func (d *door) export(c *fiber.Ctx) error {
	cu := customerOf(c)
	f, _, _, err := filter(c)
	if err != nil {
		return err
	}
	var all []delegation.ActionRecord
	cursor := ""
	for len(all) < MaxExportRows {
		page, err := d.o.Grants.Actions(c.UserContext(), cu.tenant, cu.subject.Customer, f, cursor, delegation.MaxLimit)
		if err != nil {
			return grantError(err)
		}
		all = append(all, page.Actions...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(all) > MaxExportRows {
		all = all[:MaxExportRows]
	}
	var b bytes.Buffer
	if err := delegation.WriteActionsCSV(&b, all); err != nil {
		return err
	}
	name := "activity-" + cu.subject.Customer + "-" + d.o.Now().UTC().Format("20060102T150405Z") + ".csv"
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(b.Bytes())
}

// reasonText shows a recorded denial reason in the page's language: the
// switch role records "not allowed under any delegated scope" or
// "missing scope: <a> or <b>" (stable texts; the CSV keeps them as
// recorded). Anything else is shown as it is.
func reasonText(lang, reason string) string {
	if lang != render.LocaleZH {
		return reason
	}
	if reason == "not allowed under any delegated scope" {
		return "任何代客运维权限都不允许此操作"
	}
	if rest, ok := strings.CutPrefix(reason, "missing scope: "); ok {
		var names []string
		for _, sc := range strings.Split(rest, " or ") {
			name := sc
			for _, si := range delegation.Scopes() {
				if string(si.Scope) == sc {
					name = si.ZH
				}
			}
			names = append(names, name)
		}
		return "缺少权限：" + strings.Join(names, " 或 ")
	}
	return reason
}
