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
	Issuer   string
	Reason   string
	Detail   string
	DetailZH string // Detail in Chinese ("": the English one)
}

func (e *ProbeError) Error() string { return e.EN() }

// ReasonCode is Reason (for callers that know the error only by its
// methods).
func (e *ProbeError) ReasonCode() string { return e.Reason }

// EN is the failure in English.
func (e *ProbeError) EN() string {
	return fmt.Sprintf("%s: %s", probeTexts[e.Reason][0], e.Detail)
}

// ZH is the failure in Chinese.
func (e *ProbeError) ZH() string {
	d := e.DetailZH
	if d == "" {
		d = e.Detail
	}
	return fmt.Sprintf("%s：%s", probeTexts[e.Reason][1], d)
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
		return &ProbeError{Issuer: issuer, Reason: ProbeInvalidURL, Detail: err.Error(), DetailZH: "请填写完整的 http(s) 地址，例如 https://login.partner.example"}
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
		return &ProbeError{Issuer: issuer, Reason: ProbeMissingEndpoints, Detail: strings.Join(missing, ", "), DetailZH: "缺少 " + strings.Join(missing, "、")}
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
		return &ProbeError{Issuer: issuer, Reason: ProbeIssuerMismatch, Detail: fmt.Sprintf("expected %q, the document says %q", mm.Provided, truncate(mm.Discovered, 200)),
			DetailZH: fmt.Sprintf("应为 %q，文档中为 %q", mm.Provided, truncate(mm.Discovered, 200))}
	case strings.HasPrefix(msg, "oidc: failed to decode provider discovery object"):
		return &ProbeError{Issuer: issuer, Reason: ProbeNotJSON, Detail: "the answer does not decode as a JSON object", DetailZH: "响应无法解析为 JSON 对象"}
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded), strings.Contains(msg, "unable to read response body"):
		return unreachable(issuer, err)
	}
	if status, _, ok := strings.Cut(msg, ": "); ok && len(status) >= 3 && status[0] >= '1' && status[0] <= '5' {
		return &ProbeError{Issuer: issuer, Reason: ProbeHTTPStatus, Detail: "HTTP " + status, DetailZH: "HTTP 状态 " + status}
	}
	return unreachable(issuer, err)
}

func unreachable(issuer string, err error) *ProbeError {
	en := unreachableDetail(err)
	return &ProbeError{Issuer: issuer, Reason: ProbeUnreachable, Detail: en, DetailZH: unreachableZH[en]}
}

var unreachableZH = map[string]string{
	fmt.Sprintf("no answer within %s", ProbeTimeout):                fmt.Sprintf("%s 内无响应", ProbeTimeout),
	"the host name does not resolve":                                "主机名无法解析",
	"the connection was refused or could not be made":               "连接被拒绝或无法建立",
	"too many redirects":                                            "重定向次数过多",
	"the TLS handshake failed (certificate not trusted or invalid)": "TLS 握手失败（证书不受信任或无效）",
	"the request failed":                                            "请求失败",
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
