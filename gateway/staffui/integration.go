package staffui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants/apistats"
	"github.com/livery/livery/tenants/records"
)

func integrationPath(t string) string { return Prefix + "t/" + url.PathEscape(t) + "/integration" }

// probeResult is the outcome of a discovery test, in the page's language.
type probeResult struct {
	OK      bool
	Issuer  string
	Message string
}

type integrationData struct {
	Tenant   string
	Has      bool // the tenant has a stored record
	Form     partnerForm
	Problems map[string]string
	Conflict bool
	Current  int64
	Probe    *probeResult
	CanEdit  bool
	CanTest  bool
	// Summary is the partner API requests of the last 7 days (nil
	// without the statistics or the right to see them); SummaryErr is set
	// when they could not be read.
	Summary    *apistats.Summary
	SummaryErr bool
	CanKeys    bool
	// SkipDiscovery offers "save without checking the provider".
	SkipDiscovery bool
}

// integration is the partner admin's integration page: the customer
// sign-in provider (the client secret is write-only), its discovery test,
// the partner API request summary and the way to the access keys.
func (u *UI) integration(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "")); err != nil {
		return err
	}
	d := u.integrationData(c, t)
	r, err := u.o.Records.Get(c.UserContext(), t)
	switch {
	case errors.Is(err, records.ErrNotFound):
	case err != nil:
		return err
	default:
		d.Has, d.Form = true, formOf(r)
	}
	return u.showIntegration(c, d, http.StatusOK)
}

func (u *UI) integrationData(c *fiber.Ctx, t string) integrationData {
	d := integrationData{Tenant: t, Problems: map[string]string{},
		CanEdit: u.allowed(c, http.MethodPut, tenantPath(t, "/sign-in"), t),
		CanTest: u.o.ProbeIssuer != nil && u.allowed(c, http.MethodPost, tenantPath(t, "/sign-in/test"), t),
		CanKeys: u.o.Keys != nil && u.allowed(c, http.MethodGet, tenantPath(t, "/keys"), t)}
	if u.o.APIStats != nil && u.allowed(c, http.MethodGet, tenantPath(t, "/partner-api/summary"), t) {
		s, err := u.o.APIStats.Summary(c.UserContext(), t, apistats.DefaultDays)
		if err != nil {
			u.o.Log.Warn("staffui: partner API summary unavailable", "tenant", t, "err", err)
			d.SummaryErr = true
		} else {
			d.Summary = &s
		}
	}
	return d
}

func (u *UI) showIntegration(c *fiber.Ctx, d integrationData, status int) error {
	page := u.base(c, "integration.title", d.Tenant)
	page.TitleArg = u.tenantName(c, d.Tenant)
	if f := formFlash(page.Lang, len(d.Problems), d.Conflict); f != nil {
		page.Flash = f
	}
	page.Data = d
	c.Status(status)
	return u.page(c, "integration", page)
}

// saveSignIn replaces only the sign-in provider, at the form's version
// (the rest of the record as it is now); a blank secret keeps the stored
// one.
func (u *UI) saveSignIn(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPut, tenantPath(t, "/sign-in")); err != nil {
		return err
	}
	cur, err := u.o.Records.Get(c.UserContext(), t)
	if err != nil {
		return recordError(err)
	}
	f := u.readSignInForm(c, cur)
	version := f.Version
	if c.FormValue("overwrite") != "" {
		version, _ = strconv.ParseInt(c.FormValue("current_version"), 10, 64)
	}
	d := u.integrationData(c, t)
	d.Has, d.Form = true, f
	if version != cur.Version {
		d.Conflict, d.Current = true, cur.Version
		return u.showIntegration(c, d, http.StatusConflict)
	}
	in := cur.Input()
	in.SignIn = signInOf(f, secret(c.FormValue("signin_client_secret"), f.RemoveSecret))
	if msg := u.issuerProblem(c, &cur, in); msg != "" {
		d.Problems = map[string]string{"signin_issuer": msg}
		d.SkipDiscovery = true
		return u.showIntegration(c, d, http.StatusUnprocessableEntity)
	}
	_, err = u.o.Records.Update(c.UserContext(), in, version, actor(c))
	var vc *records.VersionConflictError
	switch {
	case errors.As(err, &vc):
		d.Conflict, d.Current = true, vc.Current
		return u.showIntegration(c, d, http.StatusConflict)
	case err != nil:
		probs, ok := fieldProblems(lang(c), err)
		if !ok {
			return recordError(err)
		}
		d.Problems = probs
		return u.showIntegration(c, d, http.StatusUnprocessableEntity)
	}
	return done(c, integrationPath(t), "done.signin_saved")
}

// readSignInForm is cur's form with the posted sign-in fields.
func (u *UI) readSignInForm(c *fiber.Ctx, cur records.Record) partnerForm {
	f := formOf(cur)
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	f.SignIn, f.Issuer, f.ClientID, f.Scopes, f.AccountClaim = true, v("signin_issuer"), v("signin_client_id"), v("signin_scopes"), v("signin_account_claim")
	f.RemoveSecret = c.FormValue("signin_client_secret_remove") != ""
	f.Version, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	return f
}

// testSignIn runs discovery on the form's issuer and shows the page again
// with the edits kept and what failed or succeeded. Nothing is saved.
func (u *UI) testSignIn(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/sign-in/test")); err != nil {
		return err
	}
	cur, err := u.o.Records.Get(c.UserContext(), t)
	if err != nil {
		return recordError(err)
	}
	f := u.readSignInForm(c, cur)
	d := u.integrationData(c, t)
	d.Has, d.Form = true, f
	if f.Issuer == "" {
		d.Problems["signin_issuer"] = tr(lang(c), "integration.issuer_required")
		return u.showIntegration(c, d, http.StatusUnprocessableEntity)
	}
	d.Probe = explainProbe(lang(c), f.Issuer, u.o.ProbeIssuer(c.UserContext(), f.Issuer))
	return u.showIntegration(c, d, http.StatusOK)
}

// issuerProblem runs discovery on the sign-in issuer of in when it is new
// (cur nil, or naming another issuer) and returns the message to show
// beside the issuer field when it fails; "" when it works, is unchanged,
// or the form says to save without checking (signin_skip_discovery).
func (u *UI) issuerProblem(c *fiber.Ctx, cur *records.Record, in records.Input) string {
	issuer := records.NewIssuer(cur, in)
	if u.o.ProbeIssuer == nil || issuer == "" || c.FormValue("signin_skip_discovery") != "" {
		return ""
	}
	p := explainProbe(lang(c), issuer, u.o.ProbeIssuer(c.UserContext(), issuer))
	if p.OK {
		return ""
	}
	return tr(lang(c), "integration.no_discovery", p.Message)
}

// explainProbe is a discovery outcome in language l: the probe's own
// bilingual text (its EN and ZH methods) when it has one.
func explainProbe(l, issuer string, err error) *probeResult {
	if err == nil {
		return &probeResult{OK: true, Issuer: issuer, Message: tr(l, "integration.probe_ok")}
	}
	var pe interface {
		EN() string
		ZH() string
	}
	msg := err.Error()
	if errors.As(err, &pe) {
		msg = pe.EN()
		if l == "zh" {
			msg = pe.ZH()
		}
	}
	return &probeResult{Issuer: issuer, Message: msg}
}
