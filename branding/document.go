// Package branding holds the partner branding document (what a partner can
// customise in the console: logos, links, navigation colour, promotions,
// menus, operations info), its validation and the field-level diff shown to
// operators when they review a submission. It never imports Fiber.
package branding

import (
	"errors"
	"strings"
	"time"
)

// Limits on list lengths and text sizes.
const (
	MaxPromotions    = 10
	MaxCustomMenus   = 10
	MaxAnnouncements = 10
	MaxNameRunes     = 32
	MaxTitleRunes    = 64
	MaxLinkLen       = 2048
	// MaxTitleSuffixRunes bounds the tab-title suffix (Brand.TitleSuffixZH/EN).
	MaxTitleSuffixRunes = 32
)

// FaviconExts are the image types a favicon may have: those every current
// browser shows in a tab (JPEG and WebP favicons are not reliably shown).
var FaviconExts = []string{"png", "svg"}

// Asset is a content-addressed image reference (see branding/images): the
// object key is derived from SHA256 and Ext. The zero Asset means "no logo".
type Asset struct {
	SHA256 string `json:"sha256"`
	Ext    string `json:"ext"` // png | jpg | webp | svg
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// IsZero reports whether no image is set.
func (a Asset) IsZero() bool { return a == Asset{} }

// Item is a promotion or custom menu entry.
type Item struct {
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	Link   string `json:"link"`
}

// Announcement is an operations announcement shown between Start and End.
type Announcement struct {
	TitleZH string    `json:"title_zh"`
	TitleEN string    `json:"title_en"`
	Link    string    `json:"link,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// Brand: dual logos with a click-through link each, the navigation
// background colour, and the browser tab's favicon and title suffix. The
// same image may serve both logos (and the favicon).
type Brand struct {
	LogoZH   Asset  `json:"logo_zh"`
	LogoEN   Asset  `json:"logo_en"`
	LinkZH   string `json:"link_zh,omitempty"`
	LinkEN   string `json:"link_en,omitempty"`
	NavColor string `json:"nav_color,omitempty"` // #RRGGBB; empty = console default
	// Favicon, when set, is the console tab's icon (PNG or SVG, see
	// FaviconExts); zero keeps the console's own.
	Favicon Asset `json:"favicon,omitzero"`
	// TitleSuffixZH/EN, when set, are appended to the console page's
	// <title> ("Console – <suffix>"); an empty one falls back to the other
	// language, both empty leave the title alone.
	TitleSuffixZH string `json:"title_suffix_zh,omitempty"`
	TitleSuffixEN string `json:"title_suffix_en,omitempty"`
}

// Menus: which cloud menu areas are shown, plus the partner's custom menu.
type Menus struct {
	ShowInfo      bool   `json:"show_info"`
	ShowResources bool   `json:"show_resources"`
	ShowUser      bool   `json:"show_user"`
	ShowCustom    bool   `json:"show_custom"`
	Custom        []Item `json:"custom"`
}

// Ops: operations info visibility and the partner's announcements.
type Ops struct {
	ShowAnnouncements bool           `json:"show_announcements"`
	ShowActivities    bool           `json:"show_activities"`
	ShowRecommended   bool           `json:"show_recommended"`
	Announcements     []Announcement `json:"announcements"`
}

// Document is one partner's console branding (a draft, a submission or an
// approved version).
type Document struct {
	Brand      Brand  `json:"brand"`
	Promotions []Item `json:"promotions"`
	Menus      Menus  `json:"menus"`
	Ops        Ops    `json:"ops"`
}

// ErrInvalid is wrapped by every *ValidationError (errors.Is(err, ErrInvalid)).
var ErrInvalid = errors.New("branding: invalid document")

// Problem is one validation failure; Field is a JSON path such as
// "promotions[2].link".
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// ValidationError lists every problem found, in document order.
type ValidationError struct {
	Problems []Problem `json:"problems"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "branding: invalid document: " + strings.Join(parts, "; ")
}

func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Has reports whether a problem was recorded for field.
func (e *ValidationError) Has(field string) bool {
	for _, p := range e.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}
