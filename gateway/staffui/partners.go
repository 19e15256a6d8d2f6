package staffui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/apistats"
	"github.com/livery/livery/tenants/records"
)

// TenantRecords is what the partner pages need of the tenant records
// (records.Store; the admin API asks the same of it).
type TenantRecords interface {
	Create(ctx context.Context, in records.Input, by authz.Subject) (records.Record, error)
	Get(ctx context.Context, id string) (records.Record, error)
	List(ctx context.Context) ([]records.Record, error)
	Update(ctx context.Context, in records.Input, version int64, by authz.Subject) (records.Record, error)
	Suspend(ctx context.Context, id, reason string, by authz.Subject) (records.Record, error)
	Resume(ctx context.Context, id string, by authz.Subject) (records.Record, error)
}

// APIStats summarizes a tenant's partner API requests (apistats.Stats).
type APIStats interface {
	Summary(ctx context.Context, tenant string, days int) (apistats.Summary, error)
}

// maxSuspendReason bounds a suspension's reason (runes), as the admin API.
const maxSuspendReason = 500

func partnerPath(id string) string { return Prefix + "partners/" + url.PathEscape(id) }

// partnerForm is a tenant record as the form shows it; secrets are never
// shown (blank keeps them).
type partnerForm struct {
	ID, NameZH, NameEN, Hosts, Upstream, XAccountType string
	ProvKind, ProvURL                                 string
	ProvTokenSet, RemoveToken                         bool
	PerDevice, PerAddress, PerPartner                 string
	RequireDevice                                     bool
	AssocType                                         string
	SignIn                                            bool
	Issuer, ClientID, Scopes, AccountClaim            string
	SecretSet, RemoveSecret                           bool
	Version                                           int64
	Status, Managed, UpdatedBy                        string
}

func formOf(r records.Record) partnerForm {
	f := partnerForm{ID: r.ID, NameZH: r.Name.ZH, NameEN: r.Name.EN, Hosts: strings.Join(r.Hosts, "\n"),
		Upstream: r.Upstream, XAccountType: r.XAccountType, ProvKind: r.Provisioner.Kind, ProvURL: r.Provisioner.URL,
		ProvTokenSet: len(r.Provisioner.TokenSealed) > 0, PerDevice: r.Risk.PerDevice, PerAddress: r.Risk.PerAddress,
		PerPartner: r.Risk.PerPartner, RequireDevice: r.Risk.RequireDevice, AssocType: r.Association.Type,
		Version: r.Version, Status: r.Status, Managed: r.Managed, UpdatedBy: r.UpdatedBy}
	if s := r.SignIn; s != nil {
		f.SignIn, f.Issuer, f.ClientID, f.Scopes, f.AccountClaim = true, s.Issuer, s.ClientID, strings.Join(s.Scopes, " "), s.AccountClaim
		f.SecretSet = len(s.ClientSecretSealed) > 0
	}
	return f
}

// readPartnerForm reads the posted form; the secrets are nil (kept) when
// left blank, "" when their "remove" box is ticked.
func readPartnerForm(c *fiber.Ctx) (partnerForm, records.Input) {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	f := partnerForm{ID: v("id"), NameZH: v("name_zh"), NameEN: v("name_en"), Hosts: v("hosts"), Upstream: v("upstream"),
		XAccountType: v("xaccount_type"), ProvKind: v("provisioner_kind"), ProvURL: v("provisioner_url"),
		RemoveToken: c.FormValue("provisioner_token_remove") != "", PerDevice: v("risk_per_device"),
		PerAddress: v("risk_per_address"), PerPartner: v("risk_per_partner"), RequireDevice: c.FormValue("risk_require_device") != "",
		AssocType: v("association_type"), SignIn: c.FormValue("signin") != "", Issuer: v("signin_issuer"),
		ClientID: v("signin_client_id"), Scopes: v("signin_scopes"), AccountClaim: v("signin_account_claim"),
		RemoveSecret: c.FormValue("signin_client_secret_remove") != "", Managed: v("managed")}
	f.Version, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	in := records.Input{ID: f.ID, Name: records.Names{ZH: f.NameZH, EN: f.NameEN}, Hosts: lines(f.Hosts),
		Upstream: f.Upstream, XAccountType: f.XAccountType,
		Provisioner: records.ProvisionerInput{Kind: f.ProvKind, URL: f.ProvURL, Token: secret(c.FormValue("provisioner_token"), f.RemoveToken)},
		Risk:        records.Risk{PerDevice: f.PerDevice, PerAddress: f.PerAddress, PerPartner: f.PerPartner, RequireDevice: f.RequireDevice},
		Association: records.Association{Type: f.AssocType}, Managed: f.Managed}
	if f.SignIn {
		in.SignIn = signInOf(f, secret(c.FormValue("signin_client_secret"), f.RemoveSecret))
	}
	return f, in
}

func signInOf(f partnerForm, sec *string) *records.SignInInput {
	return &records.SignInInput{Issuer: f.Issuer, ClientID: f.ClientID, ClientSecret: sec,
		Scopes: strings.Fields(f.Scopes), AccountClaim: f.AccountClaim}
}

// secret is a write-only form field: blank keeps (nil), remove clears.
func secret(v string, remove bool) *string {
	switch {
	case remove:
		s := ""
		return &s
	case v == "":
		return nil
	}
	return &v
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// formField is the form input of a record field path ("hosts[1]" →
// "hosts", "sign_in.issuer" → "signin_issuer", "name.zh" → "name_zh").
func formField(path string) string {
	p := indexRe.ReplaceAllString(path, "")
	p = strings.Replace(p, "sign_in.", "signin_", 1)
	return strings.ReplaceAll(p, ".", "_")
}

// fieldProblems maps a record error to messages by form field in l; ok is
// false for errors that are not about fields.
func fieldProblems(l string, err error) (map[string]string, bool) {
	var ve *records.ValidationError
	var hc *records.HostConflictError
	out := map[string]string{}
	add := func(field, msg string) {
		if prev, dup := out[field]; dup {
			msg = prev + "; " + msg
		}
		out[field] = msg
	}
	switch {
	case errors.As(err, &ve):
		for _, f := range ve.Fields {
			msg := f.Msg
			if l == "zh" {
				msg = f.MsgZH
			}
			if m := indexRe.FindString(f.Field); m != "" {
				msg = f.Field + ": " + msg
			}
			add(formField(f.Field), msg)
		}
	case errors.As(err, &hc):
		add("hosts", tr(l, "partners.host_conflict", hc.Host, hc.Other))
	case errors.Is(err, records.ErrExists):
		add("id", tr(l, "err.tenant_exists"))
	default:
		return nil, false
	}
	return out, true
}

type partnerData struct {
	New      bool
	Form     partnerForm
	Problems map[string]string
	// Conflict: the record changed since the form was loaded; Current is
	// its version now (the "save over it" button uses it).
	Conflict  bool
	Current   int64
	CanEdit   bool
	CanStatus bool
	// SkipDiscovery offers "save without checking the provider" (its
	// discovery just failed).
	SkipDiscovery bool
}

// RiskDefaults are the limits a blank field means (tenants.DefaultRiskPolicy),
// shown as the fields' placeholders.
func (partnerData) RiskDefaults() map[string]string {
	d := tenants.DefaultRiskPolicy()
	return map[string]string{"device": d.PerDevice.String(), "address": d.PerAddress.String(), "partner": d.PerPartner.String()}
}

type partnersData struct {
	Rows      []records.Record
	CanCreate bool
}

// partners lists every tenant record (operators).
func (u *UI) partners(c *fiber.Ctx) error {
	if err := u.authorizeAs(c, http.MethodGet, "/tenants"); err != nil {
		return err
	}
	list, err := u.o.Records.List(c.UserContext())
	if err != nil {
		return err
	}
	page := u.base(c, "partners.title", "")
	page.Data = partnersData{Rows: list, CanCreate: u.allowed(c, http.MethodPost, "/tenants", "")}
	return u.page(c, "partners", page)
}

func (u *UI) showPartner(c *fiber.Ctx, d partnerData, status int) error {
	page := u.base(c, "partner.title", d.Form.ID)
	page.TitleArg = d.Form.ID
	if d.New {
		page.Title = "partner.new"
	}
	if d.Problems == nil {
		d.Problems = map[string]string{}
	}
	if f := formFlash(page.Lang, len(d.Problems), d.Conflict); f != nil {
		page.Flash = f
	}
	page.Data = d
	c.Status(status)
	return u.page(c, "partner", page)
}

// newPartner is the empty onboarding form.
func (u *UI) newPartner(c *fiber.Ctx) error {
	if err := u.authorizeAs(c, http.MethodPost, "/tenants"); err != nil {
		return err
	}
	return u.showPartner(c, partnerData{New: true, CanEdit: true, Form: partnerForm{ProvKind: records.ProvisionerBuiltin}}, http.StatusOK)
}

// createPartner stores a new tenant; refusals re-render the form with
// each message beside its field.
func (u *UI) createPartner(c *fiber.Ctx) error {
	if err := u.authorizeAs(c, http.MethodPost, "/tenants"); err != nil {
		return err
	}
	f, in := readPartnerForm(c)
	if msg := u.issuerProblem(c, nil, in); msg != "" {
		return u.showPartner(c, partnerData{New: true, CanEdit: true, Form: f, Problems: map[string]string{"signin_issuer": msg},
			SkipDiscovery: true}, http.StatusUnprocessableEntity)
	}
	r, err := u.o.Records.Create(c.UserContext(), in, actor(c))
	if err != nil && r.ID == "" {
		if probs, ok := fieldProblems(lang(c), err); ok {
			return u.showPartner(c, partnerData{New: true, CanEdit: true, Form: f, Problems: probs}, http.StatusUnprocessableEntity)
		}
		return err
	}
	return done(c, partnerPath(r.ID), "done.partner_created")
}

// partner is a tenant's settings form (operators; read-only for those who
// may only read).
func (u *UI) partner(c *fiber.Ctx) error {
	id := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(id, "")); err != nil {
		return err
	}
	r, err := u.o.Records.Get(c.UserContext(), id)
	if err != nil {
		return recordError(err)
	}
	return u.showPartner(c, u.partnerData(c, formOf(r)), http.StatusOK)
}

func (u *UI) partnerData(c *fiber.Ctx, f partnerForm) partnerData {
	return partnerData{Form: f, CanEdit: u.allowed(c, http.MethodPut, tenantPath(f.ID, ""), f.ID),
		CanStatus: u.allowed(c, http.MethodPost, tenantPath(f.ID, "/suspend"), f.ID)}
}

// savePartner replaces the tenant's settings if it is still at the
// form's version; a concurrent change keeps the edits and offers to save
// over it.
func (u *UI) savePartner(c *fiber.Ctx) error {
	id := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPut, tenantPath(id, "")); err != nil {
		return err
	}
	cur, err := u.o.Records.Get(c.UserContext(), id)
	if err != nil {
		return recordError(err)
	}
	f, in := readPartnerForm(c)
	f.ID, in.ID = id, id
	f.Status, f.ProvTokenSet = cur.Status, len(cur.Provisioner.TokenSealed) > 0
	if f.Managed == "" {
		f.Managed = cur.Managed
	}
	f.SecretSet = cur.SignIn != nil && len(cur.SignIn.ClientSecretSealed) > 0
	version := f.Version
	if c.FormValue("overwrite") != "" {
		version, _ = strconv.ParseInt(c.FormValue("current_version"), 10, 64)
	}
	if msg := u.issuerProblem(c, &cur, in); msg != "" {
		d := u.partnerData(c, f)
		d.Problems, d.SkipDiscovery = map[string]string{"signin_issuer": msg}, true
		return u.showPartner(c, d, http.StatusUnprocessableEntity)
	}
	_, err = u.o.Records.Update(c.UserContext(), in, version, actor(c))
	var vc *records.VersionConflictError
	switch {
	case errors.As(err, &vc):
		d := u.partnerData(c, f)
		d.Conflict, d.Current = true, vc.Current
		return u.showPartner(c, d, http.StatusConflict)
	case err != nil:
		if probs, ok := fieldProblems(lang(c), err); ok {
			d := u.partnerData(c, f)
			d.Problems = probs
			return u.showPartner(c, d, http.StatusUnprocessableEntity)
		}
		return recordError(err)
	}
	return done(c, partnerPath(id), "done.partner_saved")
}

// suspendPartner suspends a tenant: the reason is required, then a
// confirmation step.
func (u *UI) suspendPartner(c *fiber.Ctx) error {
	id := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(id, "/suspend")); err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if n := utf8.RuneCountInString(reason); n == 0 || n > maxSuspendReason {
		return back(c, partnerPath(id)+"#status", &web.Error{Status: http.StatusBadRequest, Code: "reason_required", Message: tr("en", "err.reason_required")})
	}
	if !confirmed(c) {
		return u.confirm(c, confirmData{Action: c.Path(), Text: "confirm.suspend", Arg: id, Back: partnerPath(id), Button: "action.suspend"})
	}
	if _, err := u.o.Records.Suspend(c.UserContext(), id, reason, actor(c)); err != nil {
		return back(c, partnerPath(id), recordError(err))
	}
	return done(c, partnerPath(id), "done.partner_suspended")
}

// resumePartner makes a suspended tenant active again.
func (u *UI) resumePartner(c *fiber.Ctx) error {
	id := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(id, "/resume")); err != nil {
		return err
	}
	if _, err := u.o.Records.Resume(c.UserContext(), id, actor(c)); err != nil {
		return back(c, partnerPath(id), recordError(err))
	}
	return done(c, partnerPath(id), "done.partner_resumed")
}

// recordError maps a tenant record error to the UI's error (others are
// returned as they are).
func recordError(err error) error {
	switch {
	case errors.Is(err, records.ErrNotFound):
		return &web.Error{Status: http.StatusNotFound, Code: "partner_not_found", Message: tr("en", "err.partner_not_found"), Err: err}
	case errors.Is(err, records.ErrConflict):
		return &web.Error{Status: http.StatusPreconditionFailed, Code: "tenant_changed", Message: tr("en", "err.tenant_changed"), Err: err}
	case errors.Is(err, records.ErrInvalid), errors.Is(err, records.ErrHostConflict):
		return &web.Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: fmt.Sprint(err), Err: err}
	}
	return err
}

// formFlash is the message above a partner form answered again: someone
// else saved meanwhile (the edits are kept), or the fields with problems
// (nil: neither).
func formFlash(lang string, problems int, conflict bool) *flash {
	switch {
	case conflict:
		return &flash{Kind: "error", Text: tr(lang, "err.tenant_changed")}
	case problems > 0:
		return &flash{Kind: "error", Text: tr(lang, "partners.has_problems", problems)}
	}
	return nil
}
