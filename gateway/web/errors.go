package web

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/internal/objstore"
)

// Error is an error with the HTTP status, stable code and user-facing
// message to answer with. Err, if set, is the internal cause: it is logged,
// never sent to the client.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
	// RetryAfter, when positive, is sent as Retry-After (seconds).
	RetryAfter int
	// Problems, when set, is sent as "problems" in JSON bodies: field-level
	// validation failures the client can act on.
	Problems any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error; the message is shown to the client.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON shape of every error Livery writes itself.
type ErrorBody struct {
	Code      string `json:"error_code"`
	Message   string `json:"error_msg"`
	RequestID string `json:"request_id"`
	Problems  any    `json:"problems,omitempty"`
}

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Status}} {{if eq .Lang "zh"}}{{.TitleZH}}{{else}}{{.Title}}{{end}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}code{background:#f3f3f3;padding:.1rem .3rem;overflow-wrap:anywhere}</style></head>
<body><h1>{{.Status}} <span lang="zh">{{.TitleZH}}</span> · <span lang="en">{{.Title}}</span></h1><p>{{.Message}}</p>
<p><span lang="zh">请求编号</span> / <span lang="en">Request id</span>: <code>{{.RequestID}}</code></p>
<p lang="zh">如需帮助，请向客服提供请求编号。</p><p lang="en">Quote the request id if you ask for help.</p></body></html>
`))

// titlesZH are the Chinese status titles of the error page (English:
// http.StatusText).
var titlesZH = map[int]string{
	400: "请求无效", 401: "需要登录", 403: "禁止访问", 404: "未找到", 405: "方法不允许",
	408: "请求超时", 409: "冲突", 412: "前提条件不满足", 413: "请求内容过大", 415: "不支持的内容类型",
	422: "无法处理", 429: "请求过于频繁", 431: "请求头过大", 500: "服务器错误", 502: "网关错误",
	503: "服务暂不可用", 504: "网关超时",
}

// storeRetryAfter is the Retry-After (seconds) of store_unavailable.
const storeRetryAfter = 5

// storeUnavailable answers a request that failed because the object store
// could not be used (objstore.ErrUnavailable: no answer within
// store.timeout, connection failure, server error). On the partner API the
// code becomes the reference code for unavailability (CBC.0999).
func StoreUnavailable(err error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "store_unavailable",
		Message: "Storage is temporarily unavailable. Retry in a few seconds.", Err: err, RetryAfter: storeRetryAfter}
}

// ToError turns anything a handler returned into an *Error. An error
// wrapping objstore.ErrUnavailable — bare, or as the cause of a 5xx *Error
// a handler built — is 503 store_unavailable with Retry-After (this is the
// one place that decides it). Unknown errors become a 500 whose message
// reveals nothing of the cause.
func ToError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Status >= 500 && errors.Is(e.Err, objstore.ErrUnavailable) {
			return StoreUnavailable(err)
		}
		return e
	}
	if errors.Is(err, objstore.ErrUnavailable) {
		return StoreUnavailable(err)
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return &Error{Status: fe.Code, Code: CodeForStatus(fe.Code), Message: frameworkMessage(fe)}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal_error", Err: err}
}

// frameworkMessage is the message for an error raised by Fiber or
// fasthttp rather than by Livery. A request the server could not parse
// gets a fixed message: fasthttp's own text quotes the raw request buffer,
// cookies included, which must not be echoed (or logged).
func frameworkMessage(fe *fiber.Error) string {
	switch fe.Code {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return fe.Message // "Cannot GET /path": the client's own path
	case http.StatusBadRequest:
		return "The request is malformed."
	}
	return http.StatusText(fe.Code) + "."
}

func CodeForStatus(status int) string {
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}

// CodeTable lets a door give the errors raised on its paths outside its
// handlers (unknown path, body too large, a panic) its own codes: the
// route table registers it with the listener's ErrorHandler.
//
// Page, when set, renders the error page for browsers on the door's paths
// (for example in the door's own layout and language, with the request id
// shown). It runs after Translate, with the status and headers already set,
// and only for a client that wants HTML (WantsHTML), even on a listener
// that otherwise answers JSON only. It must write the whole body; a non-nil
// error it returns falls back to the plain page.
type CodeTable struct {
	Prefix    string
	Translate func(e *Error)
	Page      func(c *fiber.Ctx, e *Error, requestID string) error
}

// ErrorHandler is the one error mapper. It writes every error body, as JSON
// for API clients and as a small HTML page for browsers, always with the
// request id. Bodies of 5xx errors carry a generic message only; the cause
// is logged.
func ErrorHandler(log *slog.Logger, alwaysJSON bool, tables ...CodeTable) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		e := ToError(err)
		if e.Status < 400 || e.Status > 599 {
			e.Status = http.StatusInternalServerError
		}
		rid := RequestIDOf(c)
		if rid == "" {
			// Refused by the server before the middleware ran (unparsable
			// request): still a request id to quote.
			rid = NewRequestID()
			c.Set(fiber.HeaderXRequestID, rid)
		}
		msg := e.Message
		if e.Status >= 500 {
			if msg == "" {
				msg = "The server could not complete the request. Quote the request id when reporting it."
			}
			log.Error("request failed", "request_id", rid, "status", e.Status,
				"code", e.Code, "err", err)
		}
		var page func(*fiber.Ctx, *Error, string) error
		for _, t := range tables {
			if strings.HasPrefix(c.Path(), t.Prefix) {
				if t.Translate != nil {
					t.Translate(e)
				}
				page = t.Page
				break
			}
		}
		c.Status(e.Status)
		if e.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
		}
		// The response may carry upstream headers already; an error body owns
		// the response entirely.
		c.Response().Header.Del(fiber.HeaderContentEncoding)
		c.Response().Header.Del(fiber.HeaderETag)
		c.Response().Header.Del(fiber.HeaderContentSecurityPolicy)
		c.Set(fiber.HeaderCacheControl, "no-store")
		if page != nil && WantsHTML(c) {
			shown := *e
			shown.Message = msg
			if err := page(c, &shown, rid); err == nil {
				return nil
			}
			c.Response().ResetBody()
		}
		if alwaysJSON || !WantsHTML(c) {
			return c.JSON(ErrorBody{Code: e.Code, Message: msg, RequestID: rid, Problems: e.Problems})
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		zh := titlesZH[e.Status]
		if zh == "" {
			zh = "错误"
		}
		return errorPage.Execute(c.Response().BodyWriter(), map[string]any{
			"Status": e.Status, "Title": http.StatusText(e.Status), "TitleZH": zh, "Message": msg, "RequestID": rid,
			"Lang": render.Locale(c.Get(fiber.HeaderAcceptLanguage), c.Cookies(render.LocaleCookie)),
		})
	}
}

// wantsHTML reports whether the client is a browser asking for a page.
func WantsHTML(c *fiber.Ctx) bool {
	accept := c.Get(fiber.HeaderAccept)
	if accept == "" {
		return true
	}
	return strings.Contains(accept, "text/html") || !strings.Contains(accept, "json")
}
