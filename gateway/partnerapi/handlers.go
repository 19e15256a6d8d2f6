package partnerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/codes"
	"github.com/livery/livery/tenants/notify"
	"github.com/livery/livery/tenants/ratelimit"
)

func (p *partnerAPI) createCustomer(c *fiber.Ctx) error {
	t := web.TenantOf(c)
	var req tenants.CreateRequest
	if err := web.DecodeStrict(c.Body(), &req); err != nil {
		return partnerError(err)
	}
	reg, err := req.Validate()
	if err != nil {
		return partnerError(err)
	}
	if req.CooperationType == nil && t.AssociationType == tenants.AssociationReferral {
		reg.AssociationType = t.AssociationType // the partner's default when the call names none
	}
	if reg.XAccountType != t.XAccountType {
		return partnerError(fmt.Errorf("%w: xaccount_type %q is not this partner's platform id", tenants.ErrForbidden, reg.XAccountType))
	}
	device, address, err := clientContext(c, t.Risk.RequireDevice)
	if err != nil {
		return partnerError(err)
	}
	// A registration is crash-safe: cut short by this deadline, it is
	// resumed by the next retry.
	ctx, cancel := context.WithTimeout(c.UserContext(), createTimeout)
	defer cancel()
	// Risk control is the registration's admission: Create asks it once per
	// registration, so retries of a finished or in-flight registration are
	// answered alike and charge no quota.
	meta := tenants.Meta{KeyID: keyID(c), RequestID: web.RequestIDOf(c), Admit: func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, riskCheckTimeout)
		defer cancel()
		d, which, err := p.Limiter.CheckRegistration(ctx, t.ID, device, address, t.Risk)
		switch {
		case err != nil:
			return fmt.Errorf("%w: risk check: %w", tenants.ErrUnavailable, err)
		case which != "":
			return &riskRefusal{d: d, which: which}
		}
		return nil
	}}
	cust, err := p.Customers.Create(ctx, t.ID, reg, meta)
	if rr := (*riskRefusal)(nil); errors.As(err, &rr) {
		setLimitHeaders(c, rr.d)
		p.audit(c, audit.Record{Event: tenants.EventRegistrationRisk, Tenant: t.ID, KeyID: meta.KeyID,
			XAccountType: reg.XAccountType, XAccountID: reg.XAccountID, Result: RiskRefusedCode, Reason: "limit per " + rr.which})
		msg := ratelimit.RiskMessageZH
		if english(c) {
			msg = ratelimit.RiskMessageEN
		}
		return &web.Error{Status: http.StatusTooManyRequests, Code: RiskRefusedCode, Message: msg}
	}
	rec := audit.Record{Event: tenants.EventCustomerCreate, Tenant: t.ID, KeyID: meta.KeyID,
		XAccountType: reg.XAccountType, XAccountID: reg.XAccountID, Result: "ok"}
	if err != nil {
		perr := partnerError(err)
		rec.Result, rec.Reason = perr.Code, err.Error()
		p.audit(c, rec)
		return perr
	}
	rec.DomainID = cust.DomainID
	p.audit(c, rec)
	return c.JSON(fiber.Map{"domain_id": cust.DomainID, "domain_name": cust.DomainName})
}

// riskCheckTimeout bounds the risk-control Redis calls of one registration;
// createTimeout the whole registration (store, Redis and provisioner calls).
const (
	riskCheckTimeout = 2 * time.Second
	createTimeout    = 60 * time.Second
)

// riskRefusal is a registration refused by risk control (which: the
// dimension, d: its decision).
type riskRefusal struct {
	d     ratelimit.Decision
	which string
}

func (r *riskRefusal) Error() string {
	return "registration refused by risk control: limit per " + r.which
}

type queryRequest struct {
	AccountName       *string `json:"account_name"`
	Customer          *string `json:"customer"`
	Offset            *int    `json:"offset"`
	Limit             *int    `json:"limit"`
	Label             *string `json:"label"`
	AssociationType   *string `json:"association_type"`
	AssociatedOnBegin *string `json:"associated_on_begin"`
	AssociatedOnEnd   *string `json:"associated_on_end"`
	CustomerID        *string `json:"customer_id"`
	IndirectPartnerID *string `json:"indirect_partner_id"`
}

// timeLayout is the UTC timestamp format of the partner API.
const timeLayout = "2006-01-02T15:04:05Z"

func (r queryRequest) query() (tenants.Query, error) {
	q := tenants.Query{Limit: 10}
	str := func(field string, v *string, max int, dst *string) error {
		if v == nil {
			return nil
		}
		if len([]rune(*v)) > max {
			return &tenants.FieldError{Field: field, Reason: fmt.Sprintf("must be at most %d characters", max), Kind: tenants.ErrInvalid}
		}
		*dst = *v
		return nil
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
		dst  *string
	}{{"account_name", r.AccountName, 64, &q.AccountName}, {"customer", r.Customer, 64, &q.Customer},
		{"label", r.Label, 64, &q.Label}, {"customer_id", r.CustomerID, 64, &q.CustomerID},
		{"indirect_partner_id", r.IndirectPartnerID, 64, &q.IndirectPartnerID}} {
		if err := str(f.name, f.v, f.max, f.dst); err != nil {
			return q, err
		}
	}
	if r.Offset != nil {
		if *r.Offset < 0 {
			return q, &tenants.FieldError{Field: "offset", Reason: "must be 0 or more", Kind: tenants.ErrInvalid}
		}
		q.Offset = *r.Offset
	}
	if r.Limit != nil {
		if *r.Limit < 1 || *r.Limit > 100 {
			return q, &tenants.FieldError{Field: "limit", Reason: "must be between 1 and 100", Kind: tenants.ErrInvalid}
		}
		q.Limit = *r.Limit
	}
	if r.AssociationType != nil && *r.AssociationType != "" {
		if *r.AssociationType != tenants.AssociationReferral && *r.AssociationType != tenants.AssociationResale {
			return q, &tenants.FieldError{Field: "association_type", Reason: `must be "1" or "2"`, Kind: tenants.ErrInvalid}
		}
		q.AssociationType = *r.AssociationType
	}
	for _, f := range []struct {
		name string
		v    *string
		dst  *time.Time
	}{{"associated_on_begin", r.AssociatedOnBegin, &q.AssociatedOnBegin}, {"associated_on_end", r.AssociatedOnEnd, &q.AssociatedOnEnd}} {
		if f.v == nil || *f.v == "" {
			continue
		}
		t, err := time.Parse(timeLayout, *f.v)
		if err != nil {
			return q, &tenants.FieldError{Field: f.name, Reason: "must be a UTC time such as 2026-01-31T08:00:00Z", Kind: tenants.ErrInvalid}
		}
		*f.dst = t
	}
	return q, nil
}

func (p *partnerAPI) queryCustomers(c *fiber.Ctx) error {
	var req queryRequest
	if err := web.DecodeStrict(c.Body(), &req); err != nil {
		return partnerError(err)
	}
	q, err := req.query()
	if err != nil {
		return partnerError(err)
	}
	list, count, err := p.Customers.List(c.UserContext(), web.TenantOf(c).ID, q)
	if err != nil {
		return partnerError(err)
	}
	infos := make([]fiber.Map, 0, len(list))
	for _, cu := range list {
		infos = append(infos, fiber.Map{
			"customer": cu.DomainName, "account_name": cu.DomainName, "customer_id": cu.DomainID,
			"associated_on": cu.AssociatedOn.UTC().Format(timeLayout), "association_type": cu.AssociationType,
			"label": cu.Label, "telephone": notify.MaskPhone(cu.Phone), "verified_status": "-1", "country_code": "",
			"customer_type": -1, "is_frozen": 0, "account_managers": managers(cu.Managers),
			"xaccount_id": cu.XAccountID, "xaccount_type": cu.XAccountType, "customer_level": "", "email": "",
		})
	}
	return c.JSON(fiber.Map{"customer_infos": infos, "count": count})
}

func managers(names []string) []fiber.Map {
	out := make([]fiber.Map, 0, len(names))
	for _, n := range names {
		out = append(out, fiber.Map{"account_name": n})
	}
	return out
}

type checkIdentityRequest struct {
	SearchType  string `json:"search_type"`
	SearchValue string `json:"search_value"`
}

func (p *partnerAPI) checkIdentity(c *fiber.Ctx) error {
	var req checkIdentityRequest
	if err := web.DecodeStrict(c.Body(), &req); err != nil {
		return partnerError(err)
	}
	if req.SearchValue == "" || len([]rune(req.SearchValue)) > 64 {
		return partnerError(&tenants.FieldError{Field: "search_value", Reason: "must be 1-64 characters", Kind: tenants.ErrInvalid})
	}
	id, err := p.Customers.CheckIdentity(c.UserContext(), req.SearchType, req.SearchValue)
	if err != nil {
		return partnerError(err)
	}
	out := fiber.Map{"check_result": "available"}
	if id.Used {
		out["check_result"] = "used_by_user"
	}
	if id.PhoneRemaining != nil {
		out["mobile_remain_available_num"] = *id.PhoneRemaining
	}
	return c.JSON(out)
}

type sendCodeRequest struct {
	ReceiverType *int    `json:"receiver_type"`
	Timeout      *int    `json:"timeout"`
	MobilePhone  string  `json:"mobile_phone"`
	Lang         *string `json:"lang"`
	Scene        *int    `json:"scene"`
	CustomerID   *string `json:"customer_id"`
}

func (p *partnerAPI) sendCode(c *fiber.Ctx) error {
	var req sendCodeRequest
	if err := web.DecodeStrict(c.Body(), &req); err != nil {
		return partnerError(err)
	}
	if req.ReceiverType == nil || *req.ReceiverType != 1 {
		return partnerError(&tenants.FieldError{Field: "receiver_type", Reason: "must be 1 (SMS)", Kind: tenants.ErrInvalid})
	}
	phone, err := tenants.NormalizePhone(req.MobilePhone)
	if err != nil {
		return partnerError(err)
	}
	lang := notify.LangZH
	if req.Lang != nil && *req.Lang != "" {
		if *req.Lang != notify.LangZH && *req.Lang != notify.LangEN {
			return partnerError(&tenants.FieldError{Field: "lang", Reason: `must be "zh-cn" or "en-us"`, Kind: tenants.ErrInvalid})
		}
		lang = *req.Lang
	}
	if req.Scene != nil && *req.Scene != 29 {
		return partnerError(&tenants.FieldError{Field: "scene", Reason: "must be 29 (registration)", Kind: tenants.ErrInvalid})
	}
	minutes := 0
	if req.Timeout != nil {
		if *req.Timeout < 0 {
			return partnerError(&tenants.FieldError{Field: "timeout", Reason: "must not be negative", Kind: tenants.ErrInvalid})
		}
		minutes = *req.Timeout
	}
	ttl := codes.TimeoutFromMinutes(minutes)
	t := web.TenantOf(c)
	// One code per phone per minute, so that re-issuing cannot be used to
	// reset the three-failure lockout at speed.
	d, err := p.Limiter.Allow(c.UserContext(), "send-code-phone:"+t.ID+":"+phone, ratelimit.Limit{Rate: 1, Period: time.Minute})
	if err != nil {
		return unavailableErr(err)
	}
	if !d.Allowed {
		setLimitHeaders(c, d)
		return &web.Error{Status: http.StatusTooManyRequests, Code: "APIGW.0308", Message: "A code was sent to this phone less than a minute ago."}
	}
	code, err := p.Codes.Issue(c.UserContext(), t.ID, phone, tenants.SceneRegistration, ttl)
	if err != nil {
		return unavailableErr(err)
	}
	err = p.Notifier.Send(c.UserContext(), notify.Message{Tenant: t.ID, Phone: phone, Lang: lang, Code: code, TTL: ttl, RequestID: web.RequestIDOf(c)})
	if err != nil {
		return &web.Error{Status: http.StatusInternalServerError, Code: "CBC.0999", Message: "The verification code could not be delivered. Retry later.", Err: err}
	}
	return c.SendStatus(http.StatusNoContent)
}

func keyID(c *fiber.Ctx) string {
	k, _ := c.Locals(localKeyID).(string)
	return k
}

// partnerError maps domain errors to the reference error codes. It is the
// single place where the partner API's codes are decided.
func partnerError(err error) *web.Error {
	msg := func(def string) string {
		var fe *tenants.FieldError
		if errors.As(err, &fe) {
			return fe.Error()
		}
		return def
	}
	bad := func(code, def string) *web.Error {
		return &web.Error{Status: http.StatusBadRequest, Code: code, Message: msg(def), Err: err}
	}
	switch {
	case errors.Is(err, tenants.ErrNameFormat):
		return bad("CBC.99000031", "The account name format is invalid.")
	case errors.Is(err, tenants.ErrPhoneFormat):
		return bad("CBC.5017", "The mobile phone format is invalid.")
	case errors.Is(err, tenants.ErrPasswordFormat):
		return bad("CBC.99000036", "The password format is invalid.")
	case errors.Is(err, tenants.ErrInvalid), errors.Is(err, codes.ErrInvalid):
		return bad("CBC.0100", "Parameter error.")
	case errors.Is(err, tenants.ErrNameTaken):
		return bad("CBC.99000038", "The account name already exists.")
	case errors.Is(err, tenants.ErrXAccountUsed):
		return bad("CBC.99000039", "The xaccount_id is already bound to another account.")
	case errors.Is(err, tenants.ErrPhoneExists):
		return bad("CBC.99000029", "The mobile phone is already registered with this partner.")
	case errors.Is(err, tenants.ErrPhoneLimit):
		return bad("CBC.99000030", "The mobile phone has reached its registration limit.")
	case errors.Is(err, codes.ErrExpired):
		return bad("CBC.99004008", "The verification code has expired.")
	case errors.Is(err, codes.ErrTooManyFailures):
		return bad("CBC.99004009", "The verification code failed more than 3 times. Request a new code.")
	case errors.Is(err, codes.ErrWrong), errors.Is(err, codes.ErrNotIssued):
		return bad("CBC.99004010", "The verification code is wrong.")
	case errors.Is(err, tenants.ErrForbidden):
		return &web.Error{Status: http.StatusForbidden, Code: "CBC.0151", Message: "Access denied.", Err: err}
	case errors.Is(err, tenants.ErrInProgress):
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "CBC.0999", RetryAfter: 1, Err: err,
			Message: "This registration is in progress. Retry in a moment: the retry is answered with the same account."}
	case errors.Is(err, tenants.ErrRejected):
		return &web.Error{Status: http.StatusInternalServerError, Code: "CBC.0999", Message: "The cloud refused to create the account.", Err: err}
	}
	return unavailableErr(err)
}
