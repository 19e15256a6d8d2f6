// Package notify delivers verification codes to end users and events
// (branding decisions) to partners.
//
// Two Notifiers exist: NewLog, the embedded development default, which only
// writes the code to the log, and NewWebhook, which posts each message to an
// SMS gateway over HTTP. Two EventNotifiers mirror them: NewEventLog, the
// default, and NewEventWebhook, which posts signed JSON to each partner's
// webhook in the background. None knows about HTTP handlers or Redis.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Languages accepted in Message.Lang (the API's "lang" field).
const (
	LangZH = "zh-cn"
	LangEN = "en-us"
)

// Message is one verification code to deliver.
type Message struct {
	Tenant    string
	Phone     string
	Lang      string // "zh-cn" (default; also used for unknown values) or "en-us"
	Code      string
	TTL       time.Duration // how long the code is valid, shown to the user
	RequestID string        // correlates logs; not used for de-duplication
}

// Notifier delivers a Message.
//
// Send returns nil once the message was accepted for delivery. A non-nil
// error means it was not (or, after a timeout, may not have been) accepted;
// the caller should report a server error and must not claim the code was
// sent. Errors never contain the code or any credential.
type Notifier interface {
	Send(ctx context.Context, m Message) error
}

// Text renders the SMS body for m in m.Lang: English for "en-us"
// (case-insensitive), Chinese otherwise. The validity is shown in whole
// minutes, rounded up, at least 1.
func Text(m Message) string {
	mins := int((m.TTL + time.Minute - 1) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	if isEnglish(m.Lang) {
		unit := "minutes"
		if mins == 1 {
			unit = "minute"
		}
		return fmt.Sprintf("Your verification code is %s. It is valid for %d %s. Do not share it with anyone.", m.Code, mins, unit)
	}
	return fmt.Sprintf("您的验证码为%s，%d分钟内有效。请勿泄露给他人。", m.Code, mins)
}

func isEnglish(lang string) bool { return strings.EqualFold(strings.TrimSpace(lang), LangEN) }

// normLang returns LangEN or LangZH.
func normLang(lang string) string {
	if isEnglish(lang) {
		return LangEN
	}
	return LangZH
}

// MaskPhone hides the middle of a phone number for logs: "13812345678" →
// "138****5678", "0086-13812345678" → "0086-138****5678". A country prefix
// before the last '-' is kept. Numbers of 7 characters or fewer keep only
// their last 2 characters.
func MaskPhone(phone string) string {
	prefix, national := "", phone
	if i := strings.LastIndexByte(phone, '-'); i >= 0 {
		prefix, national = phone[:i+1], phone[i+1:]
	}
	r := []rune(national)
	switch {
	case len(r) == 0:
		return prefix
	case len(r) <= 7:
		keep := min(2, len(r)-1)
		return prefix + strings.Repeat("*", len(r)-keep) + string(r[len(r)-keep:])
	default:
		return prefix + string(r[:3]) + "****" + string(r[len(r)-4:])
	}
}

type logNotifier struct{ log *slog.Logger }

// NewLog returns the development notifier: it sends nothing and logs the
// masked phone and the code at info level, labelled as such. It must not be
// used in production (codes end up in logs). A nil log means slog.Default().
// Its Send never fails.
func NewLog(log *slog.Logger) Notifier {
	if log == nil {
		log = slog.Default()
	}
	return logNotifier{log: log.With("notifier", "log (development only, no SMS sent)")}
}

func (n logNotifier) Send(ctx context.Context, m Message) error {
	n.log.InfoContext(ctx, "DEVELOPMENT notifier: verification code not sent, logged instead",
		"tenant", m.Tenant,
		"phone", MaskPhone(m.Phone),
		"lang", normLang(m.Lang),
		"code", m.Code,
		"ttl", m.TTL,
		"request_id", m.RequestID,
	)
	return nil
}
