// Package exchange holds the types of one console exchange as the proxy's
// hooks see it (modelled on httputil.ReverseProxy's Rewrite and
// ModifyResponse): a leaf shared by the proxy and the features that plug
// into it (branding, identity assertions).
package exchange

import (
	"errors"
	"io"
	"time"

	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/tenants"
	"github.com/valyala/fasthttp"
)

// Outbound is one request on its way to the upstream, as Rewrite hooks see
// it: the request (method, URI, headers) and what Livery knows about the
// visitor.
type Outbound struct {
	*fasthttp.Request
	Tenant  *tenants.Tenant
	Session *sessions.Session // nil: anonymous
	Preview *preview.Preview  // nil unless a staff preview
	// Delegation is set for a delegated session (partner staff operating
	// the customer's console under a grant) whose request passed the
	// delegation checks; nil otherwise.
	Delegation *Delegation
	Lang       string // the visitor's language cookie (zh, en or empty)
	RequestID  string
	// Origin is the upstream's scheme://host (the assertion audience).
	Origin string
}

// Delegation is what the proxy's hooks need to know about a delegated
// request: the identity headers and assertion name the actor, the chrome
// shows the banner. Free text is unescaped (hooks escape it).
type Delegation struct {
	Grant     string    // grant id
	Actor     string    // the staff member's subject (user id)
	ActorName string    // their display name ("" : Actor)
	Partner   string    // the tenant (partner) id
	Customer  string    // the customer's account name
	Scopes    []string  // the grant's scopes
	Ends      time.Time // when the delegated session ends (session expiry or grant end)
	// LeavePath is the console path the banner's "switch back" form posts to.
	LeavePath string
}

// Response is the upstream's response as ModifyResponse hooks see it,
// before it is copied to the client.
type Response struct {
	Out        *Outbound
	StatusCode int
	Header     *fasthttp.ResponseHeader
	// Body streams the upstream body. A hook that replaces it must close
	// the original from the new body's Close, set ContentLength (-1 when
	// unknown: the client gets it chunked) and delete validators (ETag)
	// that no longer describe the body.
	Body          io.ReadCloser
	ContentLength int64
}

// RewriteFunc may modify the outbound request before it is sent: add
// identity headers, change the path. Returning an error aborts the
// exchange; it is answered by the error mapper.
type RewriteFunc func(out *Outbound) error

// ModifyResponseFunc may modify the upstream response before it is copied
// to the client. Returning an error answers 502; an error wrapping
// ErrUpstreamBody is counted as a failed upstream body, any other as a
// response that could not be processed.
type ModifyResponseFunc func(resp *Response) error

// ErrUpstreamBody marks a ModifyResponse error caused by the upstream's
// body (cut short or unreadable) rather than by the hook.
var ErrUpstreamBody = errors.New("upstream body failed")
