package signin

import (
	"cmp"
	"context"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Cloud-account sign-in (identity.cloud_sign_in, docs/association.md).
//
// A customer a partner invites already has a cloud account and no account
// at the partner's provider, and the partner's provider cannot vouch for a
// cloud account (the partner could then claim anyone's). So the invitee
// proves the account at the cloud's own provider, on the partner's console
// host: the provider's AccountClaim is the cloud account id. An account
// associated with the console's tenant (registered through the partner API
// or by invitation) gets a customer session, as through the partner's
// provider; any other gets an invitee session, which answers invitations
// and reads its signed notices but never reaches the console. Accepting an
// invitation rotates it into a customer session (Associated).

// AccountFinder looks up the tenant's active customer with a cloud account
// id (nil when there is none). Errors: the store's.
type AccountFinder interface {
	ByDomainID(ctx context.Context, tenant, domainID string) (*tenants.Customer, error)
}

// viaExtra marks, in Session.Extra, a session signed in at the cloud's
// provider (its logout goes there).
const (
	viaExtra = "via"
	viaCloud = "cloud"
)

// cloudAudience is the login-state audience of a cloud sign-in on tenant's
// host: a state started for the partner's provider does not complete here,
// nor the reverse.
func cloudAudience(tenant string) string { return "cloud:" + tenant }

// CloudEnabled reports whether cloud-account sign-in is configured.
func (id *Customer) CloudEnabled() bool { return id.cloud != nil }

func (id *Customer) cloudRP() (*relyingParty, error) {
	if id.cloud == nil {
		return nil, web.Errorf(http.StatusNotFound, "not_found", "Cloud account sign-in is not configured. / 未配置云账号登录。")
	}
	return id.cloud, nil
}

func (id *Customer) cloudRedirectURL(c *fiber.Ctx) string { return id.baseURL(c) + CloudCallbackPath }

// CloudLogin starts a sign-in at the cloud's provider, returning to ?rd=.
// Errors: 404 when cloud sign-in is off, 429 over the sign-in budget, 502
// when the provider cannot be reached, 503 when the login-state store fails.
func (id *Customer) CloudLogin(c *fiber.Ctx) error {
	rp, err := id.cloudRP()
	if err != nil {
		return err
	}
	if err := loginBudget(c, id.LoginLimiter, id.LoginRate, "console", id.trusted); err != nil {
		return err
	}
	t := web.TenantOf(c)
	return id.flow.start(c, rp, id.cloudRedirectURL(c), cloudAudience(t.ID), c.Query("rd"), cloudUnavailable)
}

func cloudUnavailable(err error) error {
	return &web.Error{Status: http.StatusBadGateway, Code: "idp_unavailable",
		Message: "The cloud account sign-in service is unavailable. Please try again shortly. / 云账号登录服务暂不可用，请稍后重试。", Err: err}
}

// CloudCallback completes a cloud sign-in (the same checks as Callback)
// and creates a customer session when the account is associated with the
// console's tenant, an invitee session otherwise. Errors: those of
// Callback; 403 login_failed without the account claim.
func (id *Customer) CloudCallback(c *fiber.Ctx) error {
	rp, err := id.cloudRP()
	if err != nil {
		return err
	}
	t := web.TenantOf(c)
	done, err := id.flow.finish(c, rp, id.cloudRedirectURL(c), cloudAudience(t.ID), func(code string) error {
		return &web.Error{Status: http.StatusUnauthorized, Code: "login_refused",
			Message: fmt.Sprintf("The cloud account sign-in refused the sign-in (%s). / 云账号登录被拒绝（%s）。", code, code)}
	}, cloudUnavailable)
	if err != nil {
		return err
	}
	account, _ := done.claims[rp.cfg.AccountClaim].(string)
	if account == "" || len(account) > 64 {
		return &web.Error{Status: http.StatusForbidden, Code: "login_failed",
			Message: "The cloud account sign-in did not name an account. / 云账号登录未提供账号。"}
	}
	kind, roles := sessions.KindInvitee, []string(nil)
	cust, err := id.Accounts.ByDomainID(c.UserContext(), t.ID, account)
	if err != nil {
		return storeUnavailable(err)
	}
	if cust != nil && cust.State == tenants.StateActive {
		kind, roles = sessions.KindCustomer, []string{authz.RoleCustomer}
	}
	name, _ := done.claims["name"].(string)
	email, _ := done.claims["email"].(string)
	sid, _ := done.claims["sid"].(string)
	accountName := account
	if cust != nil && cust.DomainName != "" {
		accountName = cust.DomainName
	}
	return id.signedIn(c, sessions.Session{Tenant: t.ID, Kind: kind, Issuer: done.idt.Issuer,
		Subject: done.idt.Subject, SID: sid, User: cmp.Or(name, email, account), Email: email, AccountID: account,
		Account: accountName, Roles: roles, IDToken: done.rawID, Extra: map[string]string{viaExtra: viaCloud}}, done.ret)
}

// Associated rotates the request's invitee session into a customer session
// once its account is associated with the console's tenant (after the
// invitee accepted an invitation), so the console opens without signing in
// again. A session that is not an invitee's, or an account that is still
// not associated, is left as it is (nil error). Errors: 503 when the
// session or customer store fails.
func (id *Customer) Associated(c *fiber.Ctx) error {
	sess, err := id.session(c)
	if err != nil || sess == nil || sess.Kind != sessions.KindInvitee || id.Accounts == nil {
		return err
	}
	cust, err := id.Accounts.ByDomainID(c.UserContext(), sess.Tenant, sess.AccountID)
	if err != nil {
		return storeUnavailable(err)
	}
	if cust == nil || cust.State != tenants.StateActive {
		return nil
	}
	next, err := id.Sessions.Rotate(c.UserContext(), sess, func(s *sessions.Session) {
		s.Kind, s.Roles = sessions.KindCustomer, []string{authz.RoleCustomer}
	})
	if err != nil {
		return storeUnavailable(err)
	}
	id.cookies.Set(c, web.CookieSession, next.ID, 0)
	c.Locals(web.LocalSession, next)
	return nil
}

// notAssociated refuses the console to an invitee session.
func notAssociated(t *tenants.Tenant) error {
	return web.Errorf(http.StatusForbidden, "not_associated",
		"This cloud account is not associated with %s yet: open the invitation link %s sent you. / 此云账号尚未关联%s：请打开%s发给您的邀请链接。",
		t.Name.EN, t.Name.EN, t.Name.ZH, t.Name.ZH)
}
