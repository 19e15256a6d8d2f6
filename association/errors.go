package association

import (
	"errors"
	"fmt"
	"time"
)

// Reason is a failure people see: a stable Code (for the partner's list of
// invited customers and for API mapping) and a message in both languages.
// The sentinels below are *Reason values; test with errors.Is. Methods
// wrap them with detail; store failures are returned wrapped and wrap
// none of them.
type Reason struct {
	Code string
	ZH   string
	EN   string
}

func (r *Reason) Error() string { return "association: " + r.EN + " / " + r.ZH }

// Message is the text in lang ("zh" or anything else for English).
func (r *Reason) Message(lang string) string {
	if lang == "zh" {
		return r.ZH
	}
	return r.EN
}

// ReasonOf returns the *Reason err wraps, or nil.
func ReasonOf(err error) *Reason {
	var r *Reason
	if errors.As(err, &r) {
		return r
	}
	return nil
}

func reason(code, zh, en string) *Reason { return &Reason{Code: code, ZH: zh, EN: en} }

var (
	// ErrInvalid: a malformed tenant, customer, manager or invitation id,
	// an unknown association type or kind, a missing actor.
	ErrInvalid = reason("invalid", "参数无效", "invalid argument")
	// ErrNotAllowed: the actor may not do this (not a partner admin of the
	// tenant, not the customer concerned, a delegated session).
	ErrNotAllowed = reason("not_allowed", "无权执行此操作", "not allowed")
	// ErrLinkNotFound: no invitation has this token, or it expired, was
	// revoked, or was replaced by a resend.
	ErrLinkNotFound = reason("link_not_found", "邀请链接不存在或已过期", "the invitation link does not exist or has expired")
	// ErrCodeUsed: the invitation was already accepted or declined (or is
	// being accepted by another account).
	ErrCodeUsed = reason("code_used", "邀请码已被使用", "the invitation code has already been used")
	// ErrAlreadyAssociated: the account is already associated with a
	// partner (another one, or this one through a registration).
	ErrAlreadyAssociated = reason("already_associated", "该账号已关联其他合作伙伴", "the account is already associated with another partner")
	// ErrIsPartner: the account is itself a partner's account.
	ErrIsPartner = reason("is_partner", "该账号本身是合作伙伴账号", "the account is itself a partner")
	// ErrFrozen: the account is frozen.
	ErrFrozen = reason("frozen", "该账号已被冻结", "the account is frozen")
	// ErrWrongAccount: a targeted invitation opened by another account.
	ErrWrongAccount = reason("wrong_account", "该邀请不是发给此账号的", "the invitation was sent to another account")
	// ErrNoticeNotSigned: accepting before signing the current customer
	// association notice; or signing a version that is not current.
	ErrNoticeNotSigned = reason("notice_not_signed", "请先签署当前版本的《客户关联合作伙伴须知》", "sign the current customer association notice first")
	// ErrState: the invitation or change does not allow this in its
	// current state (resending an offline link, revoking an accepted one,
	// confirming a change already decided).
	ErrState = reason("state", "当前状态不允许此操作", "not allowed in the current state")
	// ErrNotAssociated: the customer is not associated with this tenant.
	ErrNotAssociated = reason("not_associated", "该客户未关联此合作伙伴", "the customer is not associated with this partner")
	// ErrChangePending: the customer already has a change awaiting
	// confirmation.
	ErrChangePending = reason("change_pending", "已有待客户确认的变更", "a change is already awaiting the customer's confirmation")
	// ErrSameType: a type change to the type the customer already has.
	ErrSameType = reason("same_type", "关联类型未变化", "the customer already has this association type")
	// ErrTooSoon: a change within ChangeInterval of the last one; a
	// *TooSoonError carries the next allowed date.
	ErrTooSoon = reason("too_soon", "每个客户每三个月最多变更一次", "at most one change per customer every three months")
	// ErrBusy: too much contention on one record; a retry is safe.
	ErrBusy = reason("busy", "系统繁忙，请稍后重试", "system busy, try again later")
)

// TooSoonError is ErrTooSoon with the first time a change is allowed.
type TooSoonError struct{ Next time.Time }

func (e *TooSoonError) Error() string {
	d := e.Next.UTC().Format("2006-01-02")
	return fmt.Sprintf("association: %s; next allowed on %s / %s，下次可变更日期 %s", ErrTooSoon.EN, d, ErrTooSoon.ZH, d)
}

func (e *TooSoonError) Unwrap() error { return ErrTooSoon }

func wrap(r *Reason, format string, args ...any) error {
	return fmt.Errorf("%w: %s", r, fmt.Sprintf(format, args...))
}
