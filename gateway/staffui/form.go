package staffui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livery/livery/branding"
)

// The editor's form fields are named by the document's JSON paths
// ("brand.link_zh", "promotions[2].link", "ops.announcements[0].start"),
// the same paths branding.Validate reports problems for, so each problem
// is shown beside its field.

// spareRows is how many empty rows each list offers beyond its entries
// (within its maximum); saving with more rows filled adds them.
const spareRows = 2

// rowForm is one editable list entry.
type rowForm struct {
	Index                int
	NameZH, NameEN, Link string
	Start, End           string // announcements: datetime-local values (UTC)
	Prefix               string // "promotions[3]"
}

// listForm is a list of entries with its spare rows.
type listForm struct {
	Name string // "promotions", "menus.custom", "ops.announcements"
	Rows []rowForm
	Max  int
}

// editorForm is the document as the form shows it.
type editorForm struct {
	Doc           branding.Document
	LogoZH        string // "<sha256>.<ext>.<w>x<h>" or ""
	LogoEN        string
	Favicon       string
	Promotions    listForm
	Custom        listForm
	Announcements listForm
}

func toForm(d branding.Document) editorForm {
	f := editorForm{Doc: d, LogoZH: assetField(d.Brand.LogoZH), LogoEN: assetField(d.Brand.LogoEN), Favicon: assetField(d.Brand.Favicon)}
	f.Promotions = itemsForm("promotions", d.Promotions, branding.MaxPromotions)
	f.Custom = itemsForm("menus.custom", d.Menus.Custom, branding.MaxCustomMenus)
	f.Announcements = listForm{Name: "ops.announcements", Max: branding.MaxAnnouncements}
	for i, a := range d.Ops.Announcements {
		f.Announcements.Rows = append(f.Announcements.Rows, rowForm{Index: i, NameZH: a.TitleZH, NameEN: a.TitleEN,
			Link: a.Link, Start: localTime(a.Start), End: localTime(a.End), Prefix: fmt.Sprintf("ops.announcements[%d]", i)})
	}
	f.Announcements.Rows = spare(f.Announcements)
	return f
}

func itemsForm(name string, items []branding.Item, max int) listForm {
	l := listForm{Name: name, Max: max}
	for i, it := range items {
		l.Rows = append(l.Rows, rowForm{Index: i, NameZH: it.NameZH, NameEN: it.NameEN, Link: it.Link, Prefix: fmt.Sprintf("%s[%d]", name, i)})
	}
	l.Rows = spare(l)
	return l
}

func spare(l listForm) []rowForm {
	for n := 0; n < spareRows && len(l.Rows) < l.Max; n++ {
		i := len(l.Rows)
		l.Rows = append(l.Rows, rowForm{Index: i, Prefix: fmt.Sprintf("%s[%d]", l.Name, i)})
	}
	return l.Rows
}

// assetField encodes an asset for a hidden field; parseAsset reverses it.
func assetField(a branding.Asset) string {
	if a.IsZero() {
		return ""
	}
	return fmt.Sprintf("%s.%s.%dx%d", a.SHA256, a.Ext, a.Width, a.Height)
}

// parseAsset reads assetField's form. The workflow checks the image
// exists, so a tampered value is refused there.
func parseAsset(s string) (branding.Asset, bool) {
	if s == "" {
		return branding.Asset{}, true
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return branding.Asset{}, false
	}
	w, h, ok := strings.Cut(parts[2], "x")
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil {
		return branding.Asset{}, false
	}
	return branding.Asset{SHA256: parts[0], Ext: parts[1], Width: wi, Height: hi}, true
}

// localTimeLayout is the value format of <input type="datetime-local">;
// the editor states that times are UTC.
const localTimeLayout = "2006-01-02T15:04"

func localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(localTimeLayout)
}

// formValues is what the form parser reads.
type formValues interface {
	FormValue(key string, defaultValue ...string) string
}

// parseForm reads the editor's form into a document. Empty list rows and
// rows marked for removal are dropped; the rest keep their order. Problems
// it finds itself (unreadable times, a tampered logo field) are returned
// with their field paths, like the validator's.
func parseForm(v formValues) (branding.Document, []branding.Problem) {
	var d branding.Document
	var probs []branding.Problem
	get := func(k string) string { return strings.TrimSpace(v.FormValue(k)) }
	on := func(k string) bool { return v.FormValue(k) != "" }
	for _, l := range []struct {
		field string
		dst   *branding.Asset
	}{{"brand.logo_zh", &d.Brand.LogoZH}, {"brand.logo_en", &d.Brand.LogoEN}, {"brand.favicon", &d.Brand.Favicon}} {
		if on(l.field + ".remove") {
			continue
		}
		a, ok := parseAsset(get(l.field))
		if !ok {
			probs = append(probs, branding.Problem{Field: l.field, Message: "unreadable image reference"})
		}
		*l.dst = a
	}
	d.Brand.LinkZH, d.Brand.LinkEN = get("brand.link_zh"), get("brand.link_en")
	d.Brand.TitleSuffixZH, d.Brand.TitleSuffixEN = get("brand.title_suffix_zh"), get("brand.title_suffix_en")
	d.Brand.NavColor = strings.ToLower(get("brand.nav_color"))
	if on("brand.nav_color.default") {
		d.Brand.NavColor = ""
	}
	d.Promotions = parseItems(v, "promotions", branding.MaxPromotions+spareRows)
	d.Menus.ShowInfo, d.Menus.ShowResources = on("menus.show_info"), on("menus.show_resources")
	d.Menus.ShowUser, d.Menus.ShowCustom = on("menus.show_user"), on("menus.show_custom")
	d.Menus.Custom = parseItems(v, "menus.custom", branding.MaxCustomMenus+spareRows)
	d.Ops.ShowAnnouncements, d.Ops.ShowActivities = on("ops.show_announcements"), on("ops.show_activities")
	d.Ops.ShowRecommended = on("ops.show_recommended")
	for i := 0; i < branding.MaxAnnouncements+spareRows; i++ {
		p := fmt.Sprintf("ops.announcements[%d]", i)
		a := branding.Announcement{TitleZH: get(p + ".title_zh"), TitleEN: get(p + ".title_en"), Link: get(p + ".link")}
		start, end := get(p+".start"), get(p+".end")
		if on(p+".remove") || (a == branding.Announcement{} && start == "" && end == "") {
			continue
		}
		n := len(d.Ops.Announcements)
		np := fmt.Sprintf("ops.announcements[%d]", n)
		var err error
		if a.Start, err = parseLocal(start); err != nil {
			probs = append(probs, branding.Problem{Field: np + ".start", Message: "enter a date and time"})
		}
		if a.End, err = parseLocal(end); err != nil {
			probs = append(probs, branding.Problem{Field: np + ".end", Message: "enter a date and time"})
		}
		d.Ops.Announcements = append(d.Ops.Announcements, a)
	}
	return d, probs
}

func parseLocal(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{localTimeLayout, localTimeLayout + ":05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

func parseItems(v formValues, name string, rows int) []branding.Item {
	var out []branding.Item
	for i := 0; i < rows; i++ {
		p := fmt.Sprintf("%s[%d]", name, i)
		it := branding.Item{NameZH: strings.TrimSpace(v.FormValue(p + ".name_zh")),
			NameEN: strings.TrimSpace(v.FormValue(p + ".name_en")), Link: strings.TrimSpace(v.FormValue(p + ".link"))}
		if v.FormValue(p+".remove") != "" || it == (branding.Item{}) {
			continue
		}
		out = append(out, it)
	}
	return out
}
