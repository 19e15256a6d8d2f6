package adminapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants/apistats"
	"github.com/livery/livery/tenants/records"
)

// TenantRecords is what the admin API needs of the tenant records
// (records.Store): the operators' onboarding, editing, suspension and the
// partner admins' sign-in settings.
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
	// Summary errors: apistats.ErrDays, Redis's.
	Summary(ctx context.Context, tenant string, days int) (apistats.Summary, error)
}

// ProbeIssuer runs OpenID Connect discovery on an issuer (signin.ProbeIssuer).
// A failure it can explain is an error with ReasonCode(), EN() and ZH()
// methods (*signin.ProbeError); any other error is reported as it is.
type ProbeIssuer func(ctx context.Context, issuer string) error

// MaxSuspendReason bounds the reason of a suspension (runes).
const MaxSuspendReason = 500

// tenantInput is the JSON body of a tenant's creation and replacement.
// Secrets: null or absent keeps the stored one, "" removes it.
type tenantInput struct {
	ID           string              `json:"id"`
	Name         records.Names       `json:"name"`
	Hosts        []string            `json:"hosts"`
	Upstream     string              `json:"upstream"`
	XAccountType string              `json:"xaccount_type"`
	Provisioner  provisionerInput    `json:"provisioner"`
	Risk         records.Risk        `json:"risk"`
	Association  records.Association `json:"association"`
	SignIn       *signInInput        `json:"sign_in"`
	// Managed is file or store (see records.Seed); empty: store on
	// creation, unchanged on replacement.
	Managed string `json:"managed"`
}

type provisionerInput struct {
	Kind  string  `json:"kind"`
	URL   string  `json:"url"`
	Token *string `json:"token"`
}

type signInInput struct {
	Issuer       string   `json:"issuer"`
	ClientID     string   `json:"client_id"`
	ClientSecret *string  `json:"client_secret"`
	Scopes       []string `json:"scopes"`
	AccountClaim string   `json:"account_claim"`
}

func (s *signInInput) input() *records.SignInInput {
	if s == nil {
		return nil
	}
	return &records.SignInInput{Issuer: s.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		Scopes: s.Scopes, AccountClaim: s.AccountClaim}
}

func (t tenantInput) input() records.Input {
	return records.Input{ID: t.ID, Name: t.Name, Hosts: t.Hosts, Upstream: t.Upstream, XAccountType: t.XAccountType,
		Provisioner: records.ProvisionerInput{Kind: t.Provisioner.Kind, URL: t.Provisioner.URL, Token: t.Provisioner.Token},
		Risk:        t.Risk, Association: t.Association, SignIn: t.SignIn.input(), Managed: t.Managed}
}

// tenantView is a record as the API shows it: secrets only as "set".
type tenantView struct {
	ID           string              `json:"id"`
	Name         records.Names       `json:"name"`
	Hosts        []string            `json:"hosts"`
	Upstream     string              `json:"upstream"`
	XAccountType string              `json:"xaccount_type"`
	Provisioner  provisionerView     `json:"provisioner"`
	Risk         records.Risk        `json:"risk"`
	Association  records.Association `json:"association"`
	SignIn       *signInView         `json:"sign_in"`
	Status       string              `json:"status"`
	Managed      string              `json:"managed"`
	Version      int64               `json:"version"`
	UpdatedBy    string              `json:"updated_by"`
	UpdatedAt    string              `json:"updated_at"`
}

type provisionerView struct {
	Kind     string `json:"kind"`
	URL      string `json:"url"`
	TokenSet bool   `json:"token_set"`
}

type signInView struct {
	Issuer          string   `json:"issuer"`
	ClientID        string   `json:"client_id"`
	ClientSecretSet bool     `json:"client_secret_set"`
	Scopes          []string `json:"scopes"`
	AccountClaim    string   `json:"account_claim"`
}

func viewOf(r records.Record) tenantView {
	v := tenantView{ID: r.ID, Name: r.Name, Hosts: r.Hosts, Upstream: r.Upstream, XAccountType: r.XAccountType,
		Provisioner: provisionerView{Kind: r.Provisioner.Kind, URL: r.Provisioner.URL, TokenSet: len(r.Provisioner.TokenSealed) > 0},
		Risk:        r.Risk, Association: r.Association, Status: r.Status, Managed: r.Managed, Version: r.Version,
		UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC().Format(time.RFC3339)}
	if v.Hosts == nil {
		v.Hosts = []string{}
	}
	if s := r.SignIn; s != nil {
		v.SignIn = &signInView{Issuer: s.Issuer, ClientID: s.ClientID, ClientSecretSet: len(s.ClientSecretSealed) > 0,
			Scopes: s.Scopes, AccountClaim: s.AccountClaim}
		if v.SignIn.Scopes == nil {
			v.SignIn.Scopes = []string{}
		}
	}
	return v
}

type adminTenants struct {
	r     TenantRecords
	probe ProbeIssuer
}

// mountTenants registers the tenant records' routes that o wires. They
// are registered before the .../tenants/:tenant group, so that a tenant
// just created (not yet in the live tenant table) can be read and edited:
// a tenant the records do not know is 404 not_found, after authorization.
func mountTenants(v1 fiber.Router, o Options) {
	if o.Records == nil {
		return
	}
	a := &adminTenants{r: o.Records, probe: o.ProbeIssuer}
	az := web.Authorize(o.Authorizer)
	v1.Get("/tenants", az, a.list)
	v1.Post("/tenants", az, a.create)
	v1.Get("/tenants/:tenant", az, a.get)
	v1.Put("/tenants/:tenant", az, a.put)
	v1.Post("/tenants/:tenant/suspend", az, a.suspend)
	v1.Post("/tenants/:tenant/resume", az, a.resume)
	v1.Put("/tenants/:tenant/sign-in", az, a.putSignIn)
	if o.ProbeIssuer != nil {
		v1.Post("/tenants/:tenant/sign-in/test", az, a.testSignIn)
	}
}

// mountSummary registers the partner API request summary (on the tenant
// group: any configured tenant).
func mountSummary(t fiber.Router, o Options) {
	if o.APIStats == nil {
		return
	}
	t.Get("/partner-api/summary", (&adminSummary{s: o.APIStats}).summary)
}

func principal(c *fiber.Ctx) authz.Subject {
	p, _ := web.PrincipalOf(c)
	return p
}

// answer sends a record with its version as ETag.
func answer(c *fiber.Ctx, status int, r records.Record) error {
	c.Set(fiber.HeaderETag, strconv.Quote(strconv.FormatInt(r.Version, 10)))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(viewOf(r))
}

func (a *adminTenants) list(c *fiber.Ctx) error {
	list, err := a.r.List(c.UserContext())
	if err != nil {
		return recordError(c, err)
	}
	out := make([]tenantView, 0, len(list))
	for _, r := range list {
		out = append(out, viewOf(r))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"tenants": out})
}

// create stores a new tenant: 201 with its record, ETag "1" and Location.
func (a *adminTenants) create(c *fiber.Ctx) error {
	var body tenantInput
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	in := body.input()
	if err := a.checkIssuer(c, nil, in); err != nil {
		return err
	}
	r, err := a.r.Create(c.UserContext(), in, principal(c))
	if err != nil && r.ID == "" {
		return recordError(c, err)
	}
	c.Set(fiber.HeaderLocation, Prefix+"/tenants/"+url.PathEscape(r.ID))
	return answer(c, http.StatusCreated, r)
}

func (a *adminTenants) get(c *fiber.Ctx) error {
	r, err := a.r.Get(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return recordError(c, err)
	}
	return answer(c, http.StatusOK, r)
}

// ifMatch reads the If-Match version ("5", 5 or W/"5"). Errors: 428
// precondition_required without it, 400 invalid_request for another value.
func ifMatch(c *fiber.Ctx) (int64, error) {
	v := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if v == "" {
		return 0, errPreconditionRequired.new()
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
	if err != nil || n < 1 {
		return 0, errInvalidRequest.withf("If-Match must be the tenant's ETag (its version, e.g. \"3\", from GET).")
	}
	return n, nil
}

// put replaces every setting of the tenant but its id and status (If-Match
// required): the body's id, when given, must be the path's.
func (a *adminTenants) put(c *fiber.Ctx) error {
	id := web.Param(c, "tenant")
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	var body tenantInput
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.ID != "" && body.ID != id {
		return errInvalidRequest.withf("id cannot be changed: omit it or give %q.", web.Truncate(id, 64))
	}
	body.ID = id
	return a.update(c, body.input(), version)
}

func (a *adminTenants) update(c *fiber.Ctx, in records.Input, version int64) error {
	cur, err := a.r.Get(c.UserContext(), in.ID)
	if err != nil {
		return recordError(c, err)
	}
	if err := a.checkIssuer(c, &cur, in); err != nil {
		return err
	}
	r, err := a.r.Update(c.UserContext(), in, version, principal(c))
	if err != nil && r.ID == "" {
		return recordError(c, err)
	}
	return answer(c, http.StatusOK, r)
}

// putSignIn replaces only the tenant's sign-in provider (If-Match
// required); the client secret, when absent or null, is kept.
func (a *adminTenants) putSignIn(c *fiber.Ctx) error {
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	var body signInInput
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	cur, err := a.r.Get(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return recordError(c, err)
	}
	if cur.Version != version {
		return recordError(c, &records.VersionConflictError{Tenant: cur.ID, Want: version, Current: cur.Version})
	}
	in := cur.Input()
	in.SignIn = body.input()
	return a.update(c, in, version)
}

// SkipDiscoveryParam, set to "true", saves a sign-in issuer without
// running its discovery first (a provider not reachable from the gateway
// yet).
const SkipDiscoveryParam = "skip_discovery"

// checkIssuer runs discovery on the sign-in issuer of in when it is new
// (cur is nil or names another issuer): a provider whose discovery fails is
// refused as 400 invalid_request naming sign_in.issuer with the reason in
// both languages, unless ?skip_discovery=true. Without a probe it passes.
func (a *adminTenants) checkIssuer(c *fiber.Ctx, cur *records.Record, in records.Input) error {
	issuer := records.NewIssuer(cur, in)
	if a.probe == nil || issuer == "" || c.Query(SkipDiscoveryParam) == "true" {
		return nil
	}
	rep := explainProbe(issuer, a.probe(c.UserContext(), issuer))
	if rep.OK {
		return nil
	}
	return recordError(c, &records.ValidationError{Tenant: in.ID, Fields: []records.FieldError{{Field: "sign_in.issuer",
		Msg:   "has no working OpenID Connect discovery: " + rep.Message + " (save with ?" + SkipDiscoveryParam + "=true to store it anyway)",
		MsgZH: "无法完成 OpenID Connect 发现：" + rep.MessageZH + "（如仍要保存，请加参数 ?" + SkipDiscoveryParam + "=true）"}}})
}

type reasonBody struct {
	Reason string `json:"reason"`
}

// suspend marks the tenant suspended; reason is required.
func (a *adminTenants) suspend(c *fiber.Ctx) error {
	var body reasonBody
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	reason := strings.TrimSpace(body.Reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > MaxSuspendReason {
		return errInvalidRequest.withf("reason is required: 1 to %d characters. / 必须填写暂停原因（1 至 %d 个字符）。", MaxSuspendReason, MaxSuspendReason)
	}
	r, err := a.r.Suspend(c.UserContext(), web.Param(c, "tenant"), reason, principal(c))
	if err != nil && r.ID == "" {
		return recordError(c, err)
	}
	return answer(c, http.StatusOK, r)
}

// resume marks the tenant active again (no body).
func (a *adminTenants) resume(c *fiber.Ctx) error {
	r, err := a.r.Resume(c.UserContext(), web.Param(c, "tenant"), principal(c))
	if err != nil && r.ID == "" {
		return recordError(c, err)
	}
	return answer(c, http.StatusOK, r)
}

type probeBody struct {
	Issuer string `json:"issuer"`
}

// probeReport is the answer of a discovery test: OK, or the reason with a
// message in both languages.
type probeReport struct {
	OK        bool   `json:"ok"`
	Issuer    string `json:"issuer"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
	MessageZH string `json:"message_zh,omitempty"`
}

// explainProbe is the report of a probe's outcome err (nil: success).
func explainProbe(issuer string, err error) probeReport {
	out := probeReport{OK: err == nil, Issuer: issuer}
	if err == nil {
		return out
	}
	var pe interface {
		EN() string
		ZH() string
	}
	if errors.As(err, &pe) {
		out.Message, out.MessageZH = pe.EN(), pe.ZH()
	} else {
		out.Message, out.MessageZH = "The discovery failed: "+err.Error(), "发现失败："+err.Error()
	}
	var rr interface{ ReasonCode() string }
	if errors.As(err, &rr) {
		out.Reason = rr.ReasonCode()
	} else {
		out.Reason = "failed"
	}
	return out
}

// testSignIn runs discovery on the body's issuer (or, when it is empty,
// the stored one) and reports what failed; 200 either way.
func (a *adminTenants) testSignIn(c *fiber.Ctx) error {
	var body probeBody
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	cur, err := a.r.Get(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return recordError(c, err)
	}
	issuer := strings.TrimSpace(body.Issuer)
	if issuer == "" && cur.SignIn != nil {
		issuer = cur.SignIn.Issuer
	}
	if issuer == "" || len(issuer) > 2048 {
		return errInvalidRequest.withf("issuer is required (the tenant has no sign-in provider yet). / 请填写登录服务地址。")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(explainProbe(issuer, a.probe(c.UserContext(), issuer)))
}

type adminSummary struct{ s APIStats }

// summary answers the tenant's partner API requests of the last ?days=
// days (default 7, at most 31) by operation and code.
func (a *adminSummary) summary(c *fiber.Ctx) error {
	days := apistats.DefaultDays
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > apistats.MaxDays {
			return errInvalidRequest.withf("days must be an integer from 1 to %d (default %d).", apistats.MaxDays, apistats.DefaultDays)
		}
		days = n
	}
	s, err := a.s.Summary(c.UserContext(), web.Param(c, "tenant"), days)
	if err != nil {
		return errUnavailable.wrap(err, "")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(s)
}
