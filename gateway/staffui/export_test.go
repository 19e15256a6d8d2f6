package staffui

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/web"
)

// StaffuiText exposes the catalog to the external tests.
func StaffuiText(key string) (en, zh string, ok bool) {
	m, ok := catalog[key]
	return m.en, m.zh, ok
}

// ProblemText exposes problemText.
func ProblemText(l, msg string) string { return problemText(l, msg) }

// ValidatorMessages are the messages branding's validator gives for a
// document with every kind of defect.
func ValidatorMessages() []string {
	long := strings.Repeat("x", 100)
	items := make([]branding.Item, branding.MaxPromotions+1)
	for i := range items {
		items[i] = branding.Item{NameZH: "a", NameEN: "a", Link: "https://a.example/"}
	}
	now := time.Now()
	docs := []branding.Document{
		{Promotions: items},
		{Brand: branding.Brand{NavColor: "red", LinkZH: "http://x.example/", LinkEN: "javascript:x", TitleSuffixZH: "<b>", TitleSuffixEN: "a\x01b",
			LogoZH: branding.Asset{SHA256: "x", Ext: "gif", Width: -1, Height: 1}, Favicon: branding.Asset{SHA256: strings.Repeat("a", 64), Ext: "jpg", Width: 1, Height: 1}},
			Promotions: []branding.Item{{NameZH: long, NameEN: "\xff", Link: "https://u:p@x.example/"}, {Link: "a b"}, {NameZH: "a", NameEN: "a", Link: "/relative"}, {NameZH: "a", NameEN: "a", Link: "%zz"}, {NameZH: "a", NameEN: "a", Link: "https://x.example/" + strings.Repeat("a", branding.MaxLinkLen)}},
			Ops:        branding.Ops{Announcements: []branding.Announcement{{TitleZH: "a", TitleEN: "a", Start: now, End: now.Add(-time.Hour)}}}},
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range docs {
		var ve *branding.ValidationError
		if errors.As(d.Validate(branding.ValidateOptions{}), &ve) {
			for _, p := range ve.Problems {
				if !seen[p.Message] {
					seen[p.Message] = true
					out = append(out, p.Message)
				}
			}
		}
	}
	return append(out, "enter a date and time", "unreadable image reference", "the file could not be read")
}

// DelegationErrorCodes are the UI's codes for every refusal of delegated
// operations (each must have an "err.<code>" text).
func DelegationErrorCodes() []string {
	var out []string
	for _, e := range []error{delegation.ErrInvalidArgument, delegation.ErrNotFound, delegation.ErrUnknownCustomer,
		delegation.ErrReferralCustomer, delegation.ErrPendingExists, delegation.ErrActiveExists, delegation.ErrNotYourGrant,
		delegation.ErrState, delegation.ErrBadScope, delegation.ErrBadDuration, delegation.ErrReasonRequired,
		delegation.ErrAgreementRequired, delegation.ErrAgreementVersion, delegation.ErrBadCursor} {
		var we *web.Error
		if !errors.As(delegationError(e), &we) || we.Status >= http.StatusInternalServerError {
			out = append(out, "unmapped:"+e.Error())
			continue
		}
		out = append(out, we.Code)
	}
	return append(out, "grant_not_active")
}
