package workflow_test

import (
	"errors"
	"image/color"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/images"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/internal/objstore"
)

var draftTests = []testCase{
	{"draft create-only and ETag conflicts", testDraftETag},
	{"missing draft is live or default document", testDraftFallback},
	{"invalid document lists fields and stores nothing", testDraftInvalid},
	{"logo must reference an uploaded image", testDraftMissingImage},
	{"images are sniffed and stored content-addressed", testImages},
	{"OpenImage rejects bad names before the store", testOpenImageNames},
}

func testDraftETag(t *testing.T, e *env) {
	d1, err := e.svc.PutDraft(e.ctx, tenant, validDoc("#111111"), "", partner)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if d1.ETag == "" || d1.UpdatedBy != partner.User || d1.UpdatedAt.IsZero() {
		t.Fatalf("created draft = %+v; want ETag, UpdatedBy, UpdatedAt", d1)
	}
	_, err = e.svc.PutDraft(e.ctx, tenant, validDoc("#222222"), "", partner2)
	wantErr(t, err, workflow.ErrConflict) // create-only on an existing draft
	d2, err := e.svc.PutDraft(e.ctx, tenant, validDoc("#333333"), d1.ETag, partner2)
	if err != nil {
		t.Fatalf("update with current ETag: %v", err)
	}
	if d2.ETag == d1.ETag {
		t.Fatal("ETag did not change on update")
	}
	_, err = e.svc.PutDraft(e.ctx, tenant, validDoc("#444444"), d1.ETag, partner)
	wantErr(t, err, workflow.ErrConflict) // stale ETag
	_, err = e.svc.PutDraft(e.ctx, "other", validDoc("#444444"), d1.ETag, partner)
	wantErr(t, err, workflow.ErrConflict) // If-Match on a missing draft

	got, err := e.svc.Draft(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if got.ETag != d2.ETag || got.Doc.Brand.NavColor != "#333333" || got.UpdatedBy != partner2.User {
		t.Fatalf("Draft = %+v; want the second update", got)
	}
	if n := count(e.events(t, tenant), workflow.EventDraftSave); n != 2 {
		t.Fatalf("%d draft.save audit records; want 2 (one per successful save)", n)
	}
}

func testDraftFallback(t *testing.T, e *env) {
	d, err := e.svc.Draft(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if d.ETag != "" || !reflect.DeepEqual(d.Doc, workflow.DefaultDocument()) {
		t.Fatalf("Draft of a new tenant = %+v; want default document, no ETag", d)
	}
	v := e.publish(t, tenant, validDoc("#ABCDEF"))
	if err := e.raw.Delete(e.ctx, "drafts/"+tenant+".json"); err != nil {
		t.Fatal(err)
	}
	d, err = e.svc.Draft(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if d.ETag != "" || !reflect.DeepEqual(d.Doc, v.Doc) {
		t.Fatalf("Draft without a stored draft = %+v; want live version %d's document", d, v.Number)
	}
	if _, err := e.svc.Draft(e.ctx, "../etc"); !errors.Is(err, workflow.ErrInvalidArgument) {
		t.Fatalf("Draft(../etc) = %v; want ErrInvalidArgument", err)
	}
}

func testDraftInvalid(t *testing.T, e *env) {
	start := time.Now()
	cases := []struct {
		name   string
		mutate func(*branding.Document)
		fields []string
	}{
		{"colour and link", func(d *branding.Document) {
			d.Brand.NavColor = "red"
			d.Promotions[0].Link = "javascript:alert(1)"
		}, []string{"brand.nav_color", "promotions[0].link"}},
		{"names and announcement", func(d *branding.Document) {
			d.Promotions[0].NameEN = ""
			d.Ops.Announcements = []branding.Announcement{{TitleZH: "公告", TitleEN: "<b>", Start: start, End: start}}
		}, []string{"promotions[0].name_en", "ops.announcements[0].title_en", "ops.announcements[0].end"}},
		{"malformed logo", func(d *branding.Document) {
			d.Brand.LogoEN = branding.Asset{SHA256: "../../x", Ext: "gif", Width: 1, Height: 1}
		}, []string{"brand.logo_en.sha256", "brand.logo_en.ext"}},
	}
	for _, c := range cases {
		doc := validDoc("#123456")
		c.mutate(&doc)
		_, err := e.svc.PutDraft(e.ctx, tenant, doc, "", partner)
		var ve *branding.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, branding.ErrInvalid) {
			t.Fatalf("%s: error = %v; want *branding.ValidationError", c.name, err)
		}
		if len(ve.Problems) != len(c.fields) {
			t.Errorf("%s: problems %v; want exactly %v", c.name, ve.Problems, c.fields)
		}
		for _, f := range c.fields {
			if !ve.Has(f) {
				t.Errorf("%s: no problem for %s in %v", c.name, f, ve.Problems)
			}
		}
	}
	if _, err := e.raw.Stat(e.ctx, "drafts/"+tenant+".json"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("a draft was stored for an invalid document (Stat: %v)", err)
	}
	if ev := e.events(t, tenant); len(ev) != 0 {
		t.Fatalf("audit records %v for refused saves", ev)
	}
}

func testDraftMissingImage(t *testing.T, e *env) {
	img := tinyPNG(t, 3, 2, color.RGBA{R: 200, A: 255})
	a, err := images.Check(img, images.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	doc := validDoc("#123456")
	doc.Brand.LogoZH = branding.Asset{SHA256: a.SHA256, Ext: a.Ext, Width: a.Width, Height: a.Height}
	_, err = e.svc.PutDraft(e.ctx, tenant, doc, "", partner)
	var ve *branding.ValidationError
	if !errors.As(err, &ve) || !ve.Has("brand.logo_zh") || len(ve.Problems) != 1 {
		t.Fatalf("PutDraft with a never-uploaded logo: %v; want one problem on brand.logo_zh", err)
	}
	asset, err := e.svc.PutImage(e.ctx, tenant, img, partner)
	if err != nil {
		t.Fatal(err)
	}
	doc.Brand.LogoZH, doc.Brand.LogoEN = asset, asset
	if _, err := e.svc.PutDraft(e.ctx, tenant, doc, "", partner); err != nil {
		t.Fatalf("PutDraft after upload: %v", err)
	}
}

func testImages(t *testing.T, e *env) {
	img := tinyPNG(t, 4, 2, color.RGBA{B: 255, A: 255})
	a, err := e.svc.PutImage(e.ctx, tenant, img, partner)
	if err != nil {
		t.Fatalf("PutImage(png): %v", err)
	}
	if a.Ext != "png" || a.Width != 4 || a.Height != 2 || len(a.SHA256) != 64 {
		t.Fatalf("asset = %+v; want png 4x2", a)
	}
	obj, err := e.raw.Stat(e.ctx, "assets/"+a.SHA256+".png")
	if err != nil || obj.ContentType != "image/png" || obj.Size != int64(len(img)) {
		t.Fatalf("stored asset = %+v, %v; want image/png of %d bytes", obj, err, len(img))
	}
	if again, err := e.svc.PutImage(e.ctx, "other", img, partner); err != nil || again != a {
		t.Fatalf("second upload = %+v, %v; want the same asset, no error", again, err)
	}
	rc, ct, size, err := e.svc.OpenImage(e.ctx, a.SHA256, a.Ext)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if ct != "image/png" || size != int64(len(img)) || string(got) != string(img) {
		t.Fatalf("OpenImage = %q, %d bytes (%d read); want image/png with the uploaded bytes", ct, size, len(got))
	}

	bad := []struct {
		name string
		data []byte
		want error
	}{
		{"text", []byte("hello, not an image"), images.ErrUnsupportedType},
		{"empty", nil, images.ErrUnsupportedType},
		{"truncated png", img[:len(img)/2], images.ErrCorrupt},
		{"html as svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), images.ErrUnsafeSVG},
	}
	for _, b := range bad {
		if _, err := e.svc.PutImage(e.ctx, tenant, b.data, partner); !errors.Is(err, b.want) {
			t.Errorf("PutImage(%s) = %v; want %v", b.name, err, b.want)
		}
	}
	objs, err := e.raw.List(e.ctx, "assets/")
	if err != nil || len(objs) != 1 {
		t.Fatalf("assets stored: %d (%v); want only the PNG", len(objs), err)
	}
	if _, _, _, err := e.svc.OpenImage(e.ctx, strings.Repeat("0", 64), "png"); !errors.Is(err, workflow.ErrNotFound) {
		t.Fatalf("OpenImage(missing) = %v; want ErrNotFound", err)
	}
	if n := count(e.events(t, tenant), workflow.EventImageUpload); n != 1 {
		t.Fatalf("%d image upload audit records for %s; want 1", n, tenant)
	}
}

func testOpenImageNames(t *testing.T, e *env) {
	sha := strings.Repeat("ab", 32)
	cases := []struct{ sha, ext string }{
		{"../x", "png"},
		{"../../drafts/acme.json#", "png"},
		{sha, "../x"},
		{sha, "png/../../drafts/acme"},
		{strings.ToUpper(sha), "png"},
		{sha[:63], "png"},
		{sha + "0", "png"},
		{sha[:62] + "g0", "png"},
		{sha, "gif"},
		{sha, "PNG"},
		{sha, ""},
		{"", "png"},
		{sha, "svg "},
	}
	for _, c := range cases {
		before := e.store.calls.Load()
		rc, _, _, err := e.svc.OpenImage(e.ctx, c.sha, c.ext)
		if rc != nil {
			rc.Close()
		}
		if !errors.Is(err, workflow.ErrNotFound) {
			t.Errorf("OpenImage(%q, %q) = %v; want ErrNotFound", c.sha, c.ext, err)
		}
		if after := e.store.calls.Load(); after != before {
			t.Errorf("OpenImage(%q, %q) touched the store", c.sha, c.ext)
		}
	}
}
