// Package partnerapi is the partner-platform door (/v2 on the API
// listener): AK/SK SDK-HMAC-SHA256 authentication, limits, the four
// endpoints and their error code table (CBC.*, APIGW.*).
package partnerapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/notify"
	"github.com/livery/livery/tenants/ratelimit"
	"github.com/livery/livery/tenants/signing"
)

// Headers by which a partner platform reports the end user's device and
// address for registration risk control. When present they must be
// covered by the request signature.
const (
	HeaderClientDevice  = "X-Client-Device-Id"
	HeaderClientAddress = "X-Client-Ip"
)

// RiskRefusedCode is Livery's own error code for a registration refused by
// risk control (too many registrations from one device, address or partner).
const RiskRefusedCode = "LIVERY.RISK.0001"

// KeyLookup resolves an access key to its tenant and secret.
type KeyLookup interface {
	Lookup(ctx context.Context, ak string) (tenant string, secret []byte, err error)
}

// KeyUsage notes that an access key authenticated a call.
type KeyUsage interface {
	Used(ctx context.Context, tenant, ak string)
}

// CustomerService is what the partner API needs of the customer registry.
type CustomerService interface {
	Create(ctx context.Context, tenant string, reg tenants.Registration, meta tenants.Meta) (*tenants.Customer, error)
	List(ctx context.Context, tenant string, q tenants.Query) ([]tenants.Customer, int, error)
	CheckIdentity(ctx context.Context, searchType, value string) (tenants.Identity, error)
}

// CodeIssuer issues verification codes.
type CodeIssuer interface {
	Issue(ctx context.Context, tenant, phone, scene string, ttl time.Duration) (string, error)
}

// Limiter applies rate limits and registration risk control.
type Limiter interface {
	Allow(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Decision, error)
	Peek(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Decision, error)
	CheckRegistration(ctx context.Context, tenant, device, address string, p tenants.RiskPolicy) (ratelimit.Decision, string, error)
}

// Auditor records the partner API's audit events durably (the
// tenants.AuditStream log, see package audit).
type Auditor interface {
	Record(ctx context.Context, r audit.Record) error
}

// Tenants finds tenants by id.
type Tenants interface {
	ByID(id string) (*tenants.Tenant, bool)
}

// Options wires the partner-platform API.
type Options struct {
	Keys      KeyLookup
	Tenants   Tenants
	Customers CustomerService
	Codes     CodeIssuer
	Notifier  notify.Notifier
	Limiter   Limiter
	Audit     Auditor
	// KeyUsage, when set, is told of every authenticated call (for the
	// keys' last-used times); it must return quickly and never fails a call
	// (tenants.AccessKeys.Used writes at most once a minute per key).
	KeyUsage KeyUsage
	// Stats, when set, counts every request of an authenticated tenant by
	// operation and answer code, once it is answered (the error path
	// too), for the request summary.
	Stats Stats
	// Per second, per partner and source address.
	CheckIdentityRate, SendCodeRate, CreateRate, QueryRate int
	// AuthFailureLimit is the failed-authentication budget of one source
	// address; once spent, its requests are refused before the signature
	// check (partner_api.auth_failure_limit; required).
	AuthFailureLimit ratelimit.Limit
	// Now is the clock for signature dates (tests); nil means time.Now.
	Now func() time.Time
}

type partnerAPI struct {
	Options
	trusted []*net.IPNet
	log     *slog.Logger
	guard   *authGuard
}

const (
	localKeyID   = "livery.key_id"
	maxSkewRetry = time.Second
)

// Prefix is where the partner API is mounted on the API listener.
const Prefix = "/v2"

// Mount registers the four partner endpoints under Prefix; reg gets the
// door's metrics; trusted are the proxies whose X-Forwarded-For names the
// client.
func Mount(api fiber.Router, o Options, trusted []*net.IPNet, log *slog.Logger, reg prometheus.Registerer) {
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &partnerAPI{Options: o, trusted: trusted, log: log, guard: newAuthGuard(o.Limiter, o.AuthFailureLimit, log, reg)}
	grp := api.Group(Prefix, newObserver(reg, o.Stats).observe, p.authenticate)
	grp.Post("/partners/sub-customers", p.limited("create", o.CreateRate), p.createCustomer)
	grp.Post("/partners/sub-customers/query", p.limited("query", o.QueryRate), p.queryCustomers)
	grp.Post("/partners/sub-customers/users/check-identity", p.limited("check-identity", o.CheckIdentityRate), p.checkIdentity)
	grp.Post("/bases/verificationcode/send", p.limited("send-code", o.SendCodeRate), p.sendCode)
}

// authenticate verifies the SDK-HMAC-SHA256 signature and resolves the
// partner. A source address that spent its failure budget is refused first
// (429 APIGW.0308, Retry-After), before anything is looked up or verified.
// Every failure is 401 CBC.0154; failures write nothing durable: they are
// counted (livery_partner_auth_failures_total), logged sampled and charged
// to the address's budget (see authGuard). A correctly signed call of a
// suspended partner is 403 CBC.0151.
func (p *partnerAPI) authenticate(c *fiber.Ctx) error {
	peer := p.peerKey(c)
	if err := p.guard.admit(c, peer); err != nil {
		return err
	}
	req := signingRequest(c)
	auth, err := signing.ParseAuthorization(req)
	if err != nil {
		return p.guard.failed(c, peer, authReason(err), "", err)
	}
	tenantID, secret, err := p.Keys.Lookup(c.UserContext(), auth.AccessKey)
	switch {
	case errors.Is(err, tenants.ErrUnknownKey):
		return p.guard.failed(c, peer, authUnknown, auth.AccessKey, err)
	case err != nil:
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "CBC.0999", Message: "Credential store unavailable. Retry later.", Err: err}
	}
	if err := signing.Verify(req, auth, secret, signing.Options{Now: p.Now()}); err != nil {
		return p.guard.failed(c, peer, authReason(err), auth.AccessKey, err)
	}
	t, ok := p.Tenants.ByID(tenantID)
	if !ok {
		return p.guard.failed(c, peer, authTenant, auth.AccessKey, errors.New("tenant of key no longer configured"))
	}
	c.Locals(web.LocalTenant, t)
	c.Locals(localKeyID, auth.AccessKey)
	if t.Suspended {
		// Signed correctly, but the partner's service is suspended: not an
		// authentication failure (nothing charged to the address), 403.
		return &web.Error{Status: http.StatusForbidden, Code: "CBC.0151",
			Message: "Access denied: this partner's service is suspended. / 访问被拒绝：该合作伙伴的服务已暂停。"}
	}
	if p.KeyUsage != nil {
		p.KeyUsage.Used(c.UserContext(), t.ID, auth.AccessKey)
	}
	return c.Next()
}

// signingRequest exposes the parts of the request the signature covers.
func signingRequest(c *fiber.Ctx) signing.Request {
	h := http.Header{}
	c.Request().Header.VisitAll(func(k, v []byte) {
		h.Add(string(k), string(v))
	})
	return signing.Request{
		Method:   c.Method(),
		Path:     string(c.Request().URI().PathOriginal()),
		RawQuery: string(c.Request().URI().QueryString()),
		Host:     string(c.Request().Host()),
		Header:   h,
		Body:     c.Body(),
	}
}

// limited applies the per-API rate limit per partner and source address.
// Redis failure refuses the call (fail closed).
func (p *partnerAPI) limited(api string, perSecond int) fiber.Handler {
	lim := ratelimit.PerSecond(perSecond)
	return func(c *fiber.Ctx) error {
		t := web.TenantOf(c)
		key := "api:" + api + ":" + t.ID + ":" + p.peerKey(c)
		d, err := p.Limiter.Allow(c.UserContext(), key, lim)
		if err != nil {
			return unavailableErr(err)
		}
		setLimitHeaders(c, d)
		if !d.Allowed {
			return &web.Error{Status: http.StatusTooManyRequests, Code: "APIGW.0308",
				Message: "The API rate limit is exceeded. Retry after " + strconv.Itoa(int(d.RetryAfter.Seconds()+0.999)) + " s."}
		}
		return c.Next()
	}
}

func setLimitHeaders(c *fiber.Ctx, d ratelimit.Decision) {
	for k, v := range d.Headers() {
		c.Set(k, v)
	}
}

// unavailableErr answers a dependency failure: 503 CBC.0999 with Retry-After.
func unavailableErr(err error) *web.Error {
	return &web.Error{Status: http.StatusServiceUnavailable, Code: "CBC.0999",
		Message: "The service is temporarily unavailable. Retry later.", Err: err, RetryAfter: 5}
}

func (p *partnerAPI) audit(c *fiber.Ctx, r audit.Record) {
	r.RequestID, r.Source = web.RequestIDOf(c), c.Context().RemoteIP().String()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), 5*time.Second)
	defer cancel()
	if err := p.Audit.Record(ctx, r); err != nil {
		p.log.Error("audit record failed", "event", r.Event, "request_id", r.RequestID, "err", err)
	}
}

// signedHeader returns a client-context header's value (trimmed; "" when
// absent), refusing it when the signature does not cover it or when it is
// sent more than once.
func signedHeader(c *fiber.Ctx, name string) (string, error) {
	v := strings.TrimSpace(c.Get(name))
	if v == "" {
		return "", nil
	}
	if len(c.Request().Header.PeekAll(name)) > 1 {
		return "", &tenants.FieldError{Field: name, Reason: "must be sent once", Kind: tenants.ErrInvalid}
	}
	auth, _ := signing.ParseAuthorization(signingRequest(c))
	for _, h := range auth.SignedHeaders {
		if h == strings.ToLower(name) {
			return v, nil
		}
	}
	return "", &tenants.FieldError{Field: name, Reason: "must be included in SignedHeaders", Kind: tenants.ErrInvalid}
}

// english reports whether the client prefers English messages.
func english(c *fiber.Ctx) bool {
	al := strings.ToLower(c.Get(fiber.HeaderAcceptLanguage))
	return strings.HasPrefix(al, "en")
}

// Codes is the door's code table for errors raised on its paths outside
// its handlers (unknown path, body too large, ...): the reference codes the
// official SDKs expect.
var Codes = web.CodeTable{Prefix: Prefix + "/", Translate: func(e *web.Error) {
	if !strings.Contains(e.Code, ".") {
		e.Code = codeForStatus(e.Status)
	}
}}

func codeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "CBC.0154"
	case status == http.StatusForbidden:
		return "CBC.0151"
	case status == http.StatusTooManyRequests:
		return "APIGW.0308"
	case status >= 500:
		return "CBC.0999"
	}
	return "CBC.0100"
}
