package staffui

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/images"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
)

// maxImageBytes is the logo size limit stated on the page (the workflow
// enforces it: branding/images).
const maxImageBytes = 512 << 10

// editorData is the branding editor page.
type editorData struct {
	Tenant    string
	Form      editorForm
	ETag      string
	State     brandingState
	Problems  map[string]string // field path → message
	Others    []branding.Problem
	Conflict  *workflow.Draft // someone else's save, when saving conflicted
	CanSubmit bool
	CanEdit   bool
	Preview   string // console preview link of the draft
	MaxImage  int
}

func (u *UI) editorPath(t string) string { return Prefix + "t/" + url.PathEscape(t) + "/branding" }

// editor shows the tenant's draft (or the live document when there is no
// draft yet) in the form.
func (u *UI) editor(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/branding/draft")); err != nil {
		return err
	}
	st, err := u.state(c, t)
	if err != nil {
		return err
	}
	d, err := u.o.Drafts.Draft(c.UserContext(), t)
	if err != nil {
		return brandingError(err)
	}
	return u.showEditor(c, t, st, toForm(d.Doc), d.ETag, nil, nil, http.StatusOK)
}

func (u *UI) showEditor(c *fiber.Ctx, t string, st brandingState, f editorForm, etag string, probs []branding.Problem, conflict *workflow.Draft, status int) error {
	page := u.base(c, "editor.title", t)
	page.TitleArg = st.Name
	d := editorData{Tenant: t, Form: f, ETag: etag, State: st, Problems: map[string]string{},
		Conflict: conflict, MaxImage: maxImageBytes / 1024,
		CanEdit:   u.allowed(c, http.MethodPut, tenantPath(t, "/branding/draft"), t),
		CanSubmit: u.allowed(c, http.MethodPost, tenantPath(t, "/branding/submit"), t)}
	for _, p := range probs {
		p.Message = problemText(page.Lang, p.Message)
		if fieldShown(p.Field) {
			if _, dup := d.Problems[p.Field]; !dup {
				d.Problems[p.Field] = p.Message
			}
		} else {
			d.Others = append(d.Others, p)
		}
	}
	if u.o.PreviewPath != nil && st.HasDraft {
		d.Preview = u.o.PreviewPath(t, "draft")
	}
	if len(probs) > 0 && page.Flash == nil {
		page.Flash = &flash{Kind: "error", Text: tr(page.Lang, "editor.has_problems", len(probs))}
	}
	if conflict != nil {
		page.Flash = &flash{Kind: "error", Text: tr(page.Lang, "err.draft_changed")}
	}
	page.Data = d
	c.Status(status)
	return u.page(c, "editor", page)
}

// fieldShown reports whether the editor has an input for a problem's
// field (others are listed at the top of the form).
func fieldShown(field string) bool {
	switch field {
	case "brand.logo_zh", "brand.logo_en", "brand.link_zh", "brand.link_en", "brand.nav_color",
		"brand.favicon", "brand.title_suffix_zh", "brand.title_suffix_en":
		return true
	}
	return strings.Contains(field, "[") && strings.Contains(field, "].")
}

// saveDraft saves the form as the draft: uploaded logos first (each stored
// by content address), then the document, conditional on the ETag the form
// was loaded with. A conflicting save shows both choices: reload (lose
// these edits) or overwrite (save them over the other save). Validation
// problems re-render the form with the edits and each problem beside its
// field; nothing is saved then.
func (u *UI) saveDraft(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPut, tenantPath(t, "/branding/draft")); err != nil {
		return err
	}
	doc, probs := parseForm(c)
	for _, slot := range []struct {
		field string
		dst   *branding.Asset
	}{{"brand.logo_zh", &doc.Brand.LogoZH}, {"brand.logo_en", &doc.Brand.LogoEN}, {"brand.favicon", &doc.Brand.Favicon}} {
		a, p, err := u.upload(c, t, slot.field)
		if err != nil {
			return err
		}
		if p != nil {
			probs = append(probs, *p)
		} else if !a.IsZero() {
			*slot.dst = a
		}
	}
	if c.FormValue("logo_en_same") != "" && !doc.Brand.LogoZH.IsZero() {
		doc.Brand.LogoEN = doc.Brand.LogoZH
	}
	etag := c.FormValue("etag")
	st, err := u.state(c, t)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		return u.showEditor(c, t, st, toForm(doc), etag, probs, nil, http.StatusUnprocessableEntity)
	}
	if c.FormValue("overwrite") != "" {
		etag = c.FormValue("current_etag")
	}
	// The colour picker answers lower case: the same colour in another
	// case is no change (nor a line in the reviewer's diff).
	if cur, err := u.o.Drafts.Draft(c.UserContext(), t); err == nil && strings.EqualFold(cur.Doc.Brand.NavColor, doc.Brand.NavColor) {
		doc.Brand.NavColor = cur.Doc.Brand.NavColor
	}
	_, err = u.o.Drafts.PutDraft(c.UserContext(), t, doc, strings.Trim(etag, `"`), actor(c))
	var ve *branding.ValidationError
	switch {
	case errors.As(err, &ve):
		return u.showEditor(c, t, st, toForm(doc), etag, ve.Problems, nil, http.StatusUnprocessableEntity)
	case errors.Is(err, workflow.ErrConflict):
		cur, err := u.o.Drafts.Draft(c.UserContext(), t)
		if err != nil {
			return brandingError(err)
		}
		return u.showEditor(c, t, st, toForm(doc), etag, nil, &cur, http.StatusConflict)
	case err != nil:
		return brandingError(err)
	}
	return done(c, u.editorPath(t), "done.saved")
}

// upload stores the file of a logo field (field + "_file"), if one was
// sent. A refused image is a problem of the field, not an error.
func (u *UI) upload(c *fiber.Ctx, t, field string) (branding.Asset, *branding.Problem, error) {
	fh, err := c.FormFile(field + "_file")
	if err != nil || fh == nil || fh.Size == 0 {
		return branding.Asset{}, nil, nil
	}
	if fh.Size > maxImageBytes {
		return branding.Asset{}, &branding.Problem{Field: field, Message: tr(lang(c), "img.too_large")}, nil
	}
	data, err := readFile(fh)
	if err != nil {
		return branding.Asset{}, &branding.Problem{Field: field, Message: "the file could not be read"}, nil
	}
	a, err := u.o.Drafts.PutImage(c.UserContext(), t, data, actor(c))
	for _, ie := range imageErrors {
		if errors.Is(err, ie.err) {
			return branding.Asset{}, &branding.Problem{Field: field, Message: tr(lang(c), ie.key)}, nil
		}
	}
	var ve *branding.ValidationError
	switch {
	case errors.As(err, &ve) && len(ve.Problems) > 0:
		return branding.Asset{}, &branding.Problem{Field: field, Message: ve.Problems[0].Message}, nil
	case errors.Is(err, branding.ErrInvalid):
		return branding.Asset{}, &branding.Problem{Field: field, Message: "not a supported image (PNG, JPEG, WebP or SVG)"}, nil
	case err != nil:
		return branding.Asset{}, nil, brandingError(err)
	}
	return a, nil, nil
}

// imageErrors are the image checks' refusals, shown beside the field.
var imageErrors = []struct {
	err error
	key string
}{
	{images.ErrTooLarge, "img.too_large"},
	{images.ErrUnsupportedType, "img.type"},
	{images.ErrUnsafeSVG, "img.unsafe_svg"},
	{images.ErrDimensions, "img.dimensions"},
	{images.ErrCorrupt, "img.corrupt"},
}

func readFile(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxImageBytes+1))
}

// submit sends the saved draft for review.
func (u *UI) submit(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/branding/submit")); err != nil {
		return err
	}
	if _, err := u.o.Submissions.Submit(c.UserContext(), t, actor(c)); err != nil {
		return back(c, u.editorPath(t), brandingError(err))
	}
	return done(c, u.editorPath(t), "done.submitted")
}

// withdraw takes the pending submission back (after a confirmation).
func (u *UI) withdraw(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/branding/withdraw")); err != nil {
		return err
	}
	if !confirmed(c) {
		return u.confirm(c, confirmData{Action: c.Path(), Text: "confirm.withdraw", Back: u.editorPath(t), Button: "action.withdraw"})
	}
	if _, err := u.o.Submissions.Withdraw(c.UserContext(), t, actor(c)); err != nil {
		return back(c, u.editorPath(t), brandingError(err))
	}
	return done(c, u.editorPath(t), "done.withdrawn")
}

// asset serves a branding image by content address to signed-in staff
// (the previews and the editor's thumbnails).
func (u *UI) asset(c *fiber.Ctx) error {
	sha, ext, ok := strings.Cut(web.Param(c, "name"), ".")
	if !ok {
		return web.Errorf(http.StatusNotFound, "not_found", "No such image.")
	}
	rc, ct, size, err := u.o.Drafts.OpenImage(c.UserContext(), sha, ext)
	if err != nil {
		return brandingError(err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400, immutable")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	c.Set("Content-Length", strconv.FormatInt(int64(len(body)), 10))
	return c.Send(body)
}
