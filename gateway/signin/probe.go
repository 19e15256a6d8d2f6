package signin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/livery/livery/internal/fieldcheck"
)

// ProbeTimeout bounds one discovery probe (ProbeIssuer), redirects
// included.
const ProbeTimeout = 10 * time.Second

// Reasons a discovery probe fails (ProbeError.Reason).
const (
	ProbeInvalidURL       = "invalid_url"       // not an absolute http(s) URL
	ProbeUnreachable      = "unreachable"       // no connection, DNS, TLS or timeout
	ProbeHTTPStatus       = "http_status"       // the discovery document answered an HTTP error
	ProbeNotJSON          = "not_json"          // the answer is not a discovery document in JSON
	ProbeIssuerMismatch   = "issuer_mismatch"   // the document names another issuer
	ProbeMissingEndpoints = "missing_endpoints" // authorization, token or JWKS endpoint missing
)

// ProbeError says why an issuer's discovery failed: Reason is one of the
// Probe* constants, Detail the English specifics (never the response
// body: the address may be an internal service), EN and ZH the sentence
// for people.
type ProbeError struct {
	Issuer string
	Reason string
	Detail string
}

func (e *ProbeError) Error() string { return e.EN() }

// ReasonCode is Reason (for callers that know the error only by its
// methods).
func (e *ProbeError) ReasonCode() string { return e.Reason }

// EN is the failure in English.
func (e *ProbeError) EN() string {
	return fmt.Sprintf("%s: %s", probeTexts[e.Reason][0], e.Detail)
}

// ZH is the failure in Chinese (the specifics stay in English).
func (e *ProbeError) ZH() string {
	return fmt.Sprintf("%s：%s", probeTexts[e.Reason][1], e.Detail)
}

var probeTexts = map[string][2]string{
	ProbeInvalidURL:       {"The issuer is not an absolute http(s) URL", "登录服务地址不是完整的 http(s) 地址"},
	ProbeUnreachable:      {"The issuer cannot be reached", "无法连接登录服务"},
	ProbeHTTPStatus:       {"The discovery document (/.well-known/openid-configuration) answered an HTTP error", "发现文档（/.well-known/openid-configuration）返回了 HTTP 错误"},
	ProbeNotJSON:          {"The discovery document is not valid JSON", "发现文档不是有效的 JSON"},
	ProbeIssuerMismatch:   {"The discovery document names another issuer", "发现文档中的 issuer 与填写的地址不一致"},
	ProbeMissingEndpoints: {"The discovery document lacks required endpoints", "发现文档缺少必需的端点"},
}

// ProbeIssuer runs OpenID Connect discovery on issuer, as the customer
// sign-in will, within ProbeTimeout (and ctx): the document must be
// reachable, JSON, name exactly issuer and give the authorization, token
// and JWKS endpoints. Errors: a *ProbeError naming the first failure.
func ProbeIssuer(ctx context.Context, issuer string) error {
	if err := fieldcheck.HTTPURL(issuer); err != nil {
		return &ProbeError{Issuer: issuer, Reason: ProbeInvalidURL, Detail: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	hc := &http.Client{Timeout: ProbeTimeout, CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		return nil
	}}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), issuer)
	if err != nil {
		return probeFailure(issuer, err)
	}
	var doc struct {
		JWKS string `json:"jwks_uri"`
	}
	_ = p.Claims(&doc)
	var missing []string
	ep := p.Endpoint()
	for _, m := range []struct{ name, v string }{{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL}, {"jwks_uri", doc.JWKS}} {
		if m.v == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return &ProbeError{Issuer: issuer, Reason: ProbeMissingEndpoints, Detail: strings.Join(missing, ", ")}
	}
	return nil
}

// probeFailure classifies an error of oidc.NewProvider.
func probeFailure(issuer string, err error) *ProbeError {
	var mm *oidc.IssuerMismatchError
	var ne net.Error
	msg := err.Error()
	switch {
	case errors.As(err, &mm):
		return &ProbeError{Issuer: issuer, Reason: ProbeIssuerMismatch, Detail: fmt.Sprintf("expected %q, the document says %q", mm.Provided, truncate(mm.Discovered, 200))}
	case strings.HasPrefix(msg, "oidc: failed to decode provider discovery object"):
		return &ProbeError{Issuer: issuer, Reason: ProbeNotJSON, Detail: "the answer does not decode as a JSON object"}
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded), strings.Contains(msg, "unable to read response body"):
		return &ProbeError{Issuer: issuer, Reason: ProbeUnreachable, Detail: unreachableDetail(err)}
	}
	if status, _, ok := strings.Cut(msg, ": "); ok && len(status) >= 3 && status[0] >= '1' && status[0] <= '5' {
		return &ProbeError{Issuer: issuer, Reason: ProbeHTTPStatus, Detail: "HTTP " + status}
	}
	return &ProbeError{Issuer: issuer, Reason: ProbeUnreachable, Detail: unreachableDetail(err)}
}

// unreachableDetail names the kind of connection failure without echoing
// what a server sent.
func unreachableDetail(err error) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("no answer within %s", ProbeTimeout)
	case errors.As(err, &dnsErr):
		return "the host name does not resolve"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "the connection was refused or could not be made"
	case strings.Contains(err.Error(), "redirects"):
		return "too many redirects"
	case strings.Contains(err.Error(), "tls") || strings.Contains(err.Error(), "x509") || strings.Contains(err.Error(), "certificate"):
		return "the TLS handshake failed (certificate not trusted or invalid)"
	}
	return "the request failed"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
