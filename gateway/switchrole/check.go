package switchrole

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/redisx"
)

// Check decides one console request of a delegated session (sign-in's
// IdentityOptions.Delegated; path is the canonical path). In order:
//   - the grant (cached; a change announced over pub/sub, or CacheTTL,
//     re-reads it) must be active for the session's customer, the session
//     not past its end, the staff session it is bound to still live —
//     otherwise the session is deleted, the switch-out audited and the
//     browser gets the "delegation ended" page (403 delegation_ended);
//   - Casbin decides with the grant's roles (delegation.Roles); a denial
//     is recorded in the activity log (Allowed=false) and answered with a
//     403 page naming the scope it would need (delegation_denied);
//   - the request is recorded in the activity log before it is forwarded,
//     reads included (synchronously); a failed record is a 503 and the
//     request is not forwarded.
//
// A store failure reading the grant is a 503. Like a middleware, it runs
// the rest of the chain (c.Next) when it lets the request through.
func (s *Service) Check(c *fiber.Ctx, sess *sessions.Session, path string) error {
	ctx := c.UserContext()
	grantID := sess.Extra[ExtraGrant]
	g, err := s.grants.grant(ctx, sess.Tenant, grantID, false)
	if err != nil && !errors.Is(err, delegation.ErrNotFound) && !errors.Is(err, delegation.ErrInvalidArgument) {
		return unavailable(err)
	}
	now := s.o.Now()
	ends, perr := time.Parse(time.RFC3339Nano, sess.Extra[ExtraExpires])
	live := err == nil && perr == nil && g.Active(now) && now.Before(ends) && g.Customer == sess.AccountID && g.Tenant == sess.Tenant
	if live {
		if _, serr := s.o.Sessions.Get(ctx, sess.Extra[ExtraStaffSID]); serr != nil {
			if !errors.Is(serr, sessions.ErrNotFound) {
				return unavailable(serr)
			}
			live = false // the staff member signed out: the delegation ends with them
		}
	}
	if !live {
		s.stats.ended.Add(1)
		if err := s.end(c, sess); err != nil {
			return unavailable(err)
		}
		return s.endedPage(c, sess.Tenant, sess.AccountID)
	}
	staff := staffOf(sess)
	rec := delegation.ActionRecord{Grant: g.ID, Tenant: sess.Tenant, Customer: sess.AccountID, Actor: staff,
		Method: c.Method(), Path: clip(path), RequestID: web.RequestIDOf(c)}
	subject := authz.Subject{User: staff.User, Roles: delegation.Roles(g.Scopes), Tenant: sess.Tenant, Customer: sess.AccountID}
	req := authz.Request{Tenant: sess.Tenant, Object: path, Action: c.Method()}
	if derr := web.Decide(c, s.o.Authorizer, subject, req, "denied"); derr != nil {
		var we *web.Error
		if !errors.As(derr, &we) || we.Status != http.StatusForbidden {
			return derr // a malformed path (400) or an authorizer failure (500)
		}
		s.stats.denied.Add(1)
		s.stats.saw(sess.ID, now)
		need := s.scopesFor(c, subject, req)
		rec.Allowed, rec.Reason = false, denialReason(need)
		if err := s.o.Grants.RecordAction(ctx, rec); err != nil {
			s.o.Logger.Error("delegation: denied request not recorded", "tenant", sess.Tenant, "grant", g.ID, "err", err)
		}
		return s.deniedPage(c, need)
	}
	rec.Allowed = true
	s.stats.saw(sess.ID, now)
	if err := s.o.Grants.RecordAction(ctx, rec); err != nil {
		s.stats.auditFailed.Add(1)
		s.o.Logger.Error("delegation: request refused, the activity log is unavailable", "tenant", sess.Tenant,
			"grant", g.ID, "method", rec.Method, "err", err)
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "delegation_audit_unavailable", RetryAfter: 5, Err: err,
			Message: "The activity log is unavailable, so this delegated request was not carried out. Please try again shortly. / 操作记录暂时不可用，此代客操作未执行，请稍后重试。"}
	}
	scopes := make([]string, len(g.Scopes))
	for i, sc := range g.Scopes {
		scopes[i] = string(sc)
	}
	s.stats.allowed.Add(1)
	c.Locals(web.LocalDelegation, &exchange.Delegation{Grant: g.ID, Actor: staff.User, ActorName: sess.Extra[ExtraStaffName],
		Partner: sess.Tenant, Customer: sess.Account, Scopes: scopes, Ends: ends, LeavePath: LeavePath})
	return c.Next()
}

// clip bounds a path for the activity log.
func clip(p string) string {
	if len(p) <= delegation.MaxPathBytes {
		return p
	}
	return strings.ToValidUTF8(p[:delegation.MaxPathBytes], "")
}

// scopesFor returns the scopes any one of which would allow req (none:
// no scope does, e.g. a marketplace order).
func (s *Service) scopesFor(c *fiber.Ctx, sub authz.Subject, req authz.Request) []delegation.ScopeInfo {
	var need []delegation.ScopeInfo
	for _, si := range delegation.Scopes() {
		sub.Roles = []string{delegation.Role(si.Scope)}
		if web.Decide(c, s.o.Authorizer, sub, req, "") == nil {
			need = append(need, si)
		}
	}
	return need
}

func denialReason(need []delegation.ScopeInfo) string {
	if len(need) == 0 {
		return "not allowed under any delegated scope"
	}
	names := make([]string, len(need))
	for i, si := range need {
		names[i] = string(si.Scope)
	}
	return "missing scope: " + strings.Join(names, " or ")
}

// deniedPage is the 403 a delegated request gets when its grant's scopes
// do not allow it: a page naming the scope (zh/en) for browsers, JSON
// for API clients.
func (s *Service) deniedPage(c *fiber.Ctx, need []delegation.ScopeInfo) error {
	var zh, en []string
	for _, si := range need {
		zh = append(zh, fmt.Sprintf("%s（%s）", si.ZH, si.Scope))
		en = append(en, fmt.Sprintf("%s (%s)", si.EN, si.Scope))
	}
	p := web.Page{Status: http.StatusForbidden, TitleZH: "代客运维权限不足", TitleEN: "Not allowed under this delegation",
		TextZH: "客户授予的代客运维权限不包括此操作。", TextEN: "The customer's delegation grant does not include this action.",
		NextZH: "此操作在代客运维中不被允许。", NextEN: "This action is never allowed in delegated operation.",
		LinkHref: "/", LinkZH: "返回控制台首页", LinkEN: "Back to the console"}
	if len(need) > 0 {
		p.NextZH = "所需权限：" + strings.Join(zh, " 或 ") + "。请客户授予包含该权限的新授权。"
		p.NextEN = "It needs the scope " + strings.Join(en, " or ") + ": ask the customer for a grant that includes it."
	}
	return s.page(c, p, "delegation_denied")
}

// endedPage answers a request of a delegation that ended (revoked,
// expired, past the session's end, staff signed out).
func (s *Service) endedPage(c *fiber.Ctx, tenant, customer string) error {
	return s.page(c, web.Page{Status: http.StatusForbidden, TitleZH: "代客运维已结束", TitleEN: "Delegated operation ended",
		TextZH: "此代客运维会话已结束：授权已被撤销或到期，或会话已超时。", TextEN: "This delegated session has ended: the grant was revoked or expired, or the session timed out.",
		NextZH: "如需继续，请回到合作伙伴控制台重新切换。", NextEN: "To continue, switch in again from the partner console.",
		LinkHref: s.backURL(tenant, customer), LinkZH: "返回合作伙伴控制台", LinkEN: "Back to the partner console"}, "delegation_ended")
}

// refused answers an invalid, expired or replayed switch-in link.
func (s *Service) refused(c *fiber.Ctx) error {
	return s.page(c, web.Page{Status: http.StatusForbidden, TitleZH: "切换链接无效", TitleEN: "Switch link not valid",
		TextZH: "此代客运维链接无效、已过期或已被使用。", TextEN: "This delegated-operation link is invalid, expired or already used.",
		NextZH: "请从合作伙伴控制台重新点击“代客运维”。", NextEN: "Start again with “Operate this console” in the partner console."}, "switch_refused")
}

// page writes p for a browser (in the tenant's chrome) or a JSON error.
func (s *Service) page(c *fiber.Ctx, p web.Page, code string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if !web.WantsHTML(c) {
		return &web.Error{Status: p.Status, Code: code, Message: p.TextEN + " " + p.NextEN + " / " + p.TextZH + p.NextZH}
	}
	p.RequestID = web.RequestIDOf(c)
	if err := s.o.Page(c, p); err != nil {
		return web.PlainPage(c, p)
	}
	return nil
}

// ticket is a switch-in link's record.
type ticket struct {
	Tenant   string   `json:"tenant"`
	Grant    string   `json:"grant"`
	Customer string   `json:"customer"`
	Account  string   `json:"account,omitempty"`
	User     string   `json:"user"`
	Name     string   `json:"name,omitempty"`
	Roles    []string `json:"roles"`
	Home     string   `json:"home"`
	StaffSID string   `json:"staff_sid"`
	From     string   `json:"from"` // web.ClientAddrKey of the request that minted it
}

// tokenStore keeps switch-in links in Redis under redisx.KeyDelegate by
// the hash of their secret (the secret is only ever in the link).
type tokenStore struct{ rdb redis.UniversalClient }

const redisTimeout = 2 * time.Second

func tokenKey(secret string) string { return redisx.KeyDelegate + "token:" + web.HashToken(secret) }

func (t tokenStore) put(ctx context.Context, secret string, rec ticket, ttl time.Duration) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	return t.rdb.Set(ctx, tokenKey(secret), b, ttl).Err()
}

// take reads and deletes a link (it works once); found is false for an
// absent, expired or unreadable one.
func (t tokenStore) take(ctx context.Context, secret string) (rec ticket, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	b, err := t.rdb.GetDel(ctx, tokenKey(secret)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return rec, false, nil
	case err != nil:
		return rec, false, err
	}
	if json.Unmarshal(b, &rec) != nil || rec.StaffSID == "" {
		return rec, false, nil
	}
	return rec, true, nil
}
