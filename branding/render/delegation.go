package render

import (
	"strconv"
	"time"
)

// Banner is what the delegated-operation banner shows: partner staff
// operating a customer's console under a delegation grant. Texts are
// plain (DelegationBanner escapes them).
type Banner struct {
	Customer string // the customer's account name
	Partner  string // the partner's display name
	Staff    string // the staff member's display name
	// Left is the delegated session's remaining time.
	Left time.Duration
	// LeavePath is the same-host path the "switch back" form posts to.
	LeavePath string
}

// DelegationBanner renders the banner (id livery-delegation-banner, a
// distinct colour, role "status") in locale: "Operating <customer> for
// <partner> as <staff> · <remaining time>" and a POST form to LeavePath
// labelled "切换角色 / Switch back". It needs no script and no style
// attribute (its rules are in the chrome's stylesheet). It goes before the
// chrome's header bar.
func DelegationBanner(b Banner, locale string) []byte {
	var w htmlWriter
	w.raw(`<div id="livery-delegation-banner" role="status"><span class="livery-delegation-text">`)
	if locale == LocaleZH {
		w.raw("正在以 <strong>")
		w.text(cleanName(b.Staff))
		w.raw("</strong> 身份代 ")
		w.text(cleanName(b.Partner))
		w.raw(" 运维 <strong>")
		w.text(cleanName(b.Customer))
		w.raw("</strong> 的控制台")
	} else {
		w.raw("Operating <strong>")
		w.text(cleanName(b.Customer))
		w.raw("</strong> for ")
		w.text(cleanName(b.Partner))
		w.raw(" as <strong>")
		w.text(cleanName(b.Staff))
		w.raw("</strong>")
	}
	w.raw(` · <span class="livery-delegation-left">`)
	w.text(remaining(b.Left, locale == LocaleZH))
	w.raw(`</span></span><form method="post"`)
	w.attr("action", b.LeavePath)
	w.raw(`><button type="submit" id="livery-delegation-leave">切换角色 / Switch back</button></form></div>`)
	return []byte(w.String())
}

// remaining says how long is left, in minutes (at least one).
func remaining(d time.Duration, zh bool) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 1 {
		m = 1
	}
	if zh {
		if m >= 60 {
			return "剩余 " + strconv.Itoa(m/60) + " 小时 " + strconv.Itoa(m%60) + " 分钟"
		}
		return "剩余 " + strconv.Itoa(m) + " 分钟"
	}
	if m >= 60 {
		return strconv.Itoa(m/60) + " h " + strconv.Itoa(m%60) + " min left"
	}
	return strconv.Itoa(m) + " min left"
}
