package render

import (
	"strconv"
	"strings"
)

// LocaleCookie is the cookie that pins the console language ("zh" or "en").
const LocaleCookie = "livery_lang"

// LanguagePath is where the chrome's language switch points
// (LanguagePath?to=zh|en); the gateway sets LocaleCookie there.
const LanguagePath = "/_livery/lang"

// maxLanguageRanges bounds the Accept-Language entries examined.
const maxLanguageRanges = 32

// Locale picks the chrome language: the livery_lang cookie value when it is
// "zh" or "en" (case-insensitive), else the Accept-Language range with the
// highest q-value that is Chinese (zh, zh-CN, zh-Hans, ... → "zh") or
// English (en, en-US, ... → "en"), earlier entries winning ties; ranges
// with q=0 or a malformed q are ignored. The default is "en".
func Locale(acceptLanguage, cookieValue string) string {
	switch strings.ToLower(strings.TrimSpace(cookieValue)) {
	case LocaleZH:
		return LocaleZH
	case LocaleEN:
		return LocaleEN
	}
	best, bestQ := LocaleEN, 0.0
	rest := acceptLanguage
	for n := 0; rest != "" && n < maxLanguageRanges; n++ {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		tag, params, _ := strings.Cut(item, ";")
		tag = strings.TrimSpace(tag)
		var loc string
		switch {
		case primary(tag, "zh"):
			loc = LocaleZH
		case primary(tag, "en"):
			loc = LocaleEN
		default:
			continue
		}
		q, ok := qValue(params)
		if ok && q > bestQ {
			best, bestQ = loc, q
		}
	}
	return best
}

// qValue parses the parameters after a language range ("q=0.8"); no q
// parameter means 1.
func qValue(params string) (float64, bool) {
	q := 1.0
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, found := strings.Cut(p, "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || len(v) > 5 || strings.Trim(v, "0123456789.") != "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return 0, false
		}
		q = f
	}
	return q, true
}

// primary reports whether the language tag's primary subtag is lang
// (ASCII case-insensitive).
func primary(tag, lang string) bool {
	return strings.EqualFold(tag, lang) || len(tag) > len(lang) && tag[len(lang)] == '-' && strings.EqualFold(tag[:len(lang)], lang)
}
