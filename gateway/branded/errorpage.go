package branded

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
)

// Error is a web.CodeTable Page for the console listener: the error page
// for browsers, in the tenant's chrome (see Render), with the status, the
// message in both languages, what to do next and the request id. Off a
// tenant's host, or without branding, it returns an error and the plain
// error page is written instead.
func (pp *Pages) Error(c *fiber.Ctx, e *web.Error, requestID string) error {
	t := web.TenantOf(c)
	if pp == nil || pp.chrome == nil || t == nil {
		return errNoTenant
	}
	p := web.Page{Status: e.Status, TitleZH: web.StatusTitleZH(e.Status), TitleEN: http.StatusText(e.Status),
		TextEN: e.Message, RequestID: requestID, LinkHref: "/", LinkZH: "返回控制台首页", LinkEN: "Back to the console home"}
	if p.TitleEN == "" {
		p.TitleEN = "Error"
	}
	partnerZH, partnerEN := t.Name.ZH, t.Name.EN
	if partnerZH == "" {
		partnerZH = partnerEN
	}
	if partnerEN == "" {
		partnerEN = partnerZH
	}
	switch {
	case e.Code == "not_associated":
		p.TextZH = "此账号未关联到" + partnerZH + "。"
		p.NextZH, p.NextEN = "请先通过合作伙伴的网站注册，或退出后换一个账号登录。",
			"Register through the partner's site first, or sign out and sign in with another account."
		p.LinkHref, p.LinkZH, p.LinkEN = "/_livery/logout", "退出登录", "Sign out"
	case e.Status == http.StatusNotFound:
		p.TextZH = "找不到该页面。"
		p.NextZH, p.NextEN = "请检查地址，或返回控制台首页。", "Check the address, or go back to the console home."
	case e.Status == http.StatusUnauthorized:
		p.TextZH = "需要重新登录。"
		p.NextZH, p.NextEN = "请重新登录后再试。", "Sign in again, then retry."
		p.LinkZH, p.LinkEN = "重新登录", "Sign in again"
	case e.Status == http.StatusForbidden:
		p.TextZH = "您无权执行此操作。"
		p.NextZH, p.NextEN = "如需此权限，请联系您的管理员或"+partnerZH+"。",
			"If you need this access, contact your administrator or "+partnerEN+"."
	case e.Status == http.StatusTooManyRequests:
		p.TextZH = "请求过于频繁。"
		p.NextZH, p.NextEN = "请稍候片刻再试。", "Wait a moment, then try again."
	case e.Status >= 500:
		p.TextZH = "服务暂时无法完成请求。"
		p.NextZH, p.NextEN = "请稍后重试；如果问题持续，请将请求编号提供给"+partnerZH+"客服。",
			"Try again in a few moments; if it keeps happening, give the request id to "+partnerEN+" support."
	default:
		p.TextZH = "请求无法完成。"
		p.NextZH, p.NextEN = "请返回控制台首页后重试。", "Go back to the console home and try again."
	}
	if p.TextEN == "" {
		p.TextEN = p.TitleEN + "."
	}
	return pp.Render(c, p)
}
