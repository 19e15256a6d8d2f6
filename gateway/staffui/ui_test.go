package staffui_test

import (
	"bytes"
	"image/color"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// uiEnv is a branding gateway (two tenants, acme and globex, the real
// Casbin policy) with the web UI, and a signed-in browser per staff user.
type uiEnv struct {
	*gatewaytest.BrandEnv
	browsers map[string]*http.Client
}

func newUIEnv(t *testing.T) *uiEnv {
	t.Helper()
	e := &uiEnv{BrandEnv: gatewaytest.NewBrandEnv(t), browsers: map[string]*http.Client{}}
	return e
}

// as is a browser signed in as subject (no redirect following).
func (e *uiEnv) as(t *testing.T, subject string) *http.Client {
	t.Helper()
	if c, ok := e.browsers[subject]; ok {
		return c
	}
	c := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, c, subject); r.Status != http.StatusOK {
		t.Fatalf("sign in %s: %d %s", subject, r.Status, r.Body)
	}
	s := gatewaytest.StepBrowser(c.Jar)
	e.browsers[subject] = s
	return s
}

func (e *uiEnv) get(t *testing.T, c *http.Client, path string, headers ...string) gatewaytest.Response {
	t.Helper()
	return gatewaytest.Send(t, c, gatewaytest.NewRequest(t, http.MethodGet, e.APIURL+path, nil,
		append([]string{"Accept", "text/html"}, headers...)...))
}

// post sends a form as the browser would (same origin).
func (e *uiEnv) post(t *testing.T, c *http.Client, path string, form url.Values) gatewaytest.Response {
	t.Helper()
	return gatewaytest.Send(t, c, gatewaytest.NewRequest(t, http.MethodPost, e.APIURL+path, strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html", "Origin", e.APIURL))
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([0-9a-f]+)"`)

// csrf is the form token of the page at path.
func (e *uiEnv) csrf(t *testing.T, c *http.Client, path string) string {
	t.Helper()
	r := e.get(t, c, path)
	m := csrfField.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s has no CSRF field (%d): %.300s", path, r.Status, r.Body)
	}
	return m[1]
}

// checkPage asserts a UI page: HTML, the strict policy, no template
// leftovers.
func checkPage(t *testing.T, path string, r gatewaytest.Response) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: content type %q", path, ct)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: policy %q", path, csp)
	}
	for _, bad := range []string{"%!", "<no value>", "<script>", " style=\""} {
		if strings.Contains(r.Body, bad) {
			t.Errorf("%s: body contains %q: %s", path, bad, gatewaytest.Grep(r.Body, bad))
		}
	}
	if !strings.Contains(r.Body, "Request id") && !strings.Contains(r.Body, "请求编号") {
		t.Errorf("%s: no request id on the page", path)
	}
}

func TestPagesByRole(t *testing.T) {
	e := newUIEnv(t)
	cases := []struct {
		user, path string
		status     int
		want       string
	}{
		{"op-1", "/ui/", 200, "Branding reviews"},
		{"op-1", "/ui/reviews", 200, "Review queue"},
		{"op-1", "/ui/tenants", 200, "acme"},
		{"op-1", "/ui/t/acme/branding/history", 200, "Approved versions"},
		{"op-1", "/ui/t/globex/audit", 200, "Audit log"},
		{"pa-acme", "/ui/", 200, "Console branding"},
		{"pa-acme", "/ui/t/acme/branding", 200, `name="promotions[0].link"`},
		{"pa-acme", "/ui/t/acme/branding/history", 200, "Submissions"},
		{"pa-acme", "/ui/t/acme/customers", 200, "Customers"},
		{"pa-acme", "/ui/t/acme/keys", 200, "Create an access key"},
		{"pa-acme", "/ui/t/acme/audit", 200, "Audit log"},
		{"pa-acme", "/ui/t/acme/branding/chrome?source=draft&locale=zh", 200, "livery"},
		// Another tenant's pages: the 403 page, in the UI's layout.
		{"pa-acme", "/ui/t/globex/branding", 403, "another partner"},
		{"pa-acme", "/ui/t/globex/customers", 403, "another partner"},
		{"pa-acme", "/ui/reviews", 403, "Forbidden"},
		{"pa-acme", "/ui/tenants", 403, "Forbidden"},
		{"pa-acme", "/ui/t/nosuch/branding", 403, "Forbidden"},
		{"op-1", "/ui/t/nosuch/branding", 404, "No such partner"},
		// A customer manager: customers, read-only; no branding.
		{"cm-acme", "/ui/", 200, "My customers"},
		{"cm-acme", "/ui/t/acme/customers", 200, "Customers"},
		{"cm-acme", "/ui/t/acme/branding", 403, "Forbidden"},
		{"cm-acme", "/ui/t/acme/keys", 403, "Forbidden"},
	}
	for _, tc := range cases {
		r := e.get(t, e.as(t, tc.user), tc.path)
		if r.Status != tc.status || !strings.Contains(r.Body, tc.want) {
			t.Errorf("%s GET %s: %d, want %d with %q: %.400s", tc.user, tc.path, r.Status, tc.status, tc.want, r.Body)
			continue
		}
		if !strings.Contains(tc.path, "/chrome") {
			checkPage(t, tc.path, r)
		}
	}
	// Chinese, from Accept-Language, and the switch.
	r := e.get(t, e.as(t, "pa-acme"), "/ui/t/acme/branding", "Accept-Language", "zh-CN,zh;q=0.9")
	if !strings.Contains(r.Body, `lang="zh-CN"`) || !strings.Contains(r.Body, "保存草稿") {
		t.Errorf("zh editor: %.300s", r.Body)
	}
	r = e.get(t, e.as(t, "pa-acme"), "/ui/?lang=en", "Accept-Language", "zh-CN")
	if !strings.Contains(r.Body, `lang="en"`) || !strings.Contains(r.Header.Get("Set-Cookie"), "livery_lang=en") {
		t.Errorf("?lang=en: %v %.200s", r.Header.Get("Set-Cookie"), r.Body)
	}
}

func TestSignInRedirect(t *testing.T) {
	e := newUIEnv(t)
	r := e.get(t, gatewaytest.StepBrowser(nil), "/ui/t/acme/branding?x=1")
	if r.Status != http.StatusFound || r.Header.Get("Location") != "/admin/login?rd=%2Fui%2Ft%2Facme%2Fbranding%3Fx%3D1" {
		t.Fatalf("anonymous: %d %q", r.Status, r.Header.Get("Location"))
	}
	if r := e.get(t, gatewaytest.StepBrowser(nil), "/"); r.Status != http.StatusFound || r.Header.Get("Location") != "/ui/" {
		t.Fatalf("/: %d %q", r.Status, r.Header.Get("Location"))
	}
	// Signing in lands back on the page asked for.
	c := gatewaytest.StaffBrowser()
	e.IDP.SetAutoLogin("pa-acme")
	defer e.IDP.SetAutoLogin("")
	resp, body := gatewaytest.Get(t, c, e.APIURL+"/ui/t/acme/branding")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/ui/t/acme/branding" || !strings.Contains(body, "Save draft") {
		t.Fatalf("after sign-in: %d %s", resp.StatusCode, resp.Request.URL)
	}
	// Sign out: the form's rd is followed, only when local.
	r = e.post(t, gatewaytest.StepBrowser(c.Jar), "/admin/logout", url.Values{"rd": {"/ui/signed-out"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/ui/signed-out" {
		t.Fatalf("logout: %d %q", r.Status, r.Header.Get("Location"))
	}
	if r := e.get(t, gatewaytest.StepBrowser(c.Jar), "/ui/"); r.Status != http.StatusFound {
		t.Fatalf("after logout /ui/: %d", r.Status)
	}
	r = e.post(t, gatewaytest.StepBrowser(nil), "/admin/logout", url.Values{"rd": {"//evil.example/"}})
	if r.Status != http.StatusNoContent {
		t.Fatalf("logout with a foreign rd: %d %q", r.Status, r.Header.Get("Location"))
	}
}

func TestCSRF(t *testing.T) {
	e := newUIEnv(t)
	c := e.as(t, "pa-acme")
	tok := e.csrf(t, c, "/ui/t/acme/branding")
	for name, form := range map[string]url.Values{
		"missing": {},
		"wrong":   {"_csrf": {strings.Repeat("0", 64)}},
		"short":   {"_csrf": {tok[:10]}},
	} {
		r := e.post(t, c, "/ui/t/acme/branding/submit", form)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "csrf_failed") {
			t.Errorf("%s token: %d %.300s", name, r.Status, r.Body)
		}
	}
	// Another user's token is not this session's.
	other := e.csrf(t, e.as(t, "op-1"), "/ui/t/acme/keys")
	if r := e.post(t, c, "/ui/t/acme/branding/submit", url.Values{"_csrf": {other}}); r.Status != http.StatusForbidden {
		t.Errorf("another session's token: %d", r.Status)
	}
	// The right token from another site: refused by the Origin check.
	req := gatewaytest.NewRequest(t, http.MethodPost, e.APIURL+"/ui/t/acme/branding/submit",
		strings.NewReader(url.Values{"_csrf": {tok}}.Encode()), "Content-Type", "application/x-www-form-urlencoded",
		"Accept", "text/html", "Sec-Fetch-Site", "cross-site")
	if r := gatewaytest.Send(t, c, req); r.Status != http.StatusForbidden {
		t.Errorf("cross-site: %d", r.Status)
	}
	// Nothing was submitted by any of those.
	if r := e.get(t, e.as(t, "op-1"), "/ui/reviews"); !strings.Contains(r.Body, "Nothing to review") {
		t.Errorf("a refused form submitted: %.300s", r.Body)
	}
}

// editorForm is the editor's form as the page gives it, with changes.
func (e *uiEnv) editorForm(t *testing.T, c *http.Client, tenant string, set map[string]string) (url.Values, string) {
	t.Helper()
	r := e.get(t, c, "/ui/t/"+tenant+"/branding")
	f := url.Values{}
	for _, m := range regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`).FindAllStringSubmatch(r.Body, -1) {
		if !strings.Contains(m[0], `type="checkbox"`) || strings.Contains(m[0], "checked") {
			f.Set(m[1], htmlUnescape(m[2]))
		}
	}
	for k, v := range set {
		f.Set(k, v)
	}
	return f, r.Body
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&#43;", "+").Replace(s)
}

func TestEditorFieldErrorsAndConflict(t *testing.T) {
	e := newUIEnv(t)
	c := e.as(t, "pa-acme")
	f, _ := e.editorForm(t, c, "acme", map[string]string{"promotions[0].name_zh": "促销", "promotions[0].name_en": "Deals",
		"promotions[0].link": "javascript:alert(1)"})
	r := e.post(t, c, "/ui/t/acme/branding", f)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="promotions[0].link-err"`) ||
		!strings.Contains(r.Body, `aria-invalid="true" aria-describedby="promotions[0].link-err"`) || !strings.Contains(r.Body, "Deals") {
		t.Fatalf("bad link: %d %s", r.Status, gatewaytest.Grep(r.Body, "field-error"))
	}
	if got := e.get(t, c, "/ui/t/acme/branding"); strings.Contains(got.Body, "Deals") {
		t.Fatal("an invalid form was saved")
	}
	// The tab-title suffix is validated like the rest.
	f.Set("promotions[0].link", "https://deals.example/")
	f.Set("brand.title_suffix_en", "<b>Acme</b>")
	if r := e.post(t, c, "/ui/t/acme/branding", f); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="brand.title_suffix_en-err"`) {
		t.Fatalf("bad title suffix: %d %s", r.Status, gatewaytest.Grep(r.Body, "field-error"))
	}
	f.Set("brand.title_suffix_en", "Acme Cloud")
	if r := e.post(t, c, "/ui/t/acme/branding", f); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=done.saved") {
		t.Fatalf("fixed: %d %s", r.Status, r.Body)
	}
	// f still carries the ETag the form was loaded with (none): a second
	// save from that stale form conflicts, shows both choices and keeps
	// the edits.
	f.Set("promotions[0].name_en", "Better deals")
	r = e.post(t, c, "/ui/t/acme/branding", f)
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "Overwrite with my edits") || !strings.Contains(r.Body, "Better deals") {
		t.Fatalf("stale save: %d %.500s", r.Status, r.Body)
	}
	cur := regexp.MustCompile(`name="current_etag" value="([^"]+)"`).FindStringSubmatch(r.Body)
	if cur == nil {
		t.Fatal("no current ETag in the conflict form")
	}
	f.Set("current_etag", htmlUnescape(cur[1]))
	f.Set("overwrite", "1")
	if r := e.post(t, c, "/ui/t/acme/branding", f); r.Status != http.StatusSeeOther {
		t.Fatalf("overwrite: %d %.300s", r.Status, r.Body)
	}
	if got := e.get(t, c, "/ui/t/acme/branding"); !strings.Contains(got.Body, "Better deals") || !strings.Contains(got.Body, `value="Acme Cloud"`) {
		t.Fatal("overwrite did not save")
	}
}

func TestUploadLogo(t *testing.T) {
	e := newUIEnv(t)
	c := e.as(t, "pa-acme")
	f, _ := e.editorForm(t, c, "acme", nil)
	send := func(data []byte, name string) gatewaytest.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, vs := range f {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		fw, _ := mw.CreateFormFile("brand.logo_zh_file", name)
		fw.Write(data)
		mw.Close()
		return gatewaytest.Send(t, c, gatewaytest.NewRequest(t, http.MethodPost, e.APIURL+"/ui/t/acme/branding", &body,
			"Content-Type", mw.FormDataContentType(), "Accept", "text/html", "Origin", e.APIURL))
	}
	r := send([]byte("not an image"), "logo.png")
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="brand.logo_zh-err"`) {
		t.Fatalf("not an image: %d %s", r.Status, gatewaytest.Grep(r.Body, "field-error"))
	}
	r = send(gatewaytest.PNGOf(t, 120, 32, color.RGBA{R: 200, A: 255}), "logo.png")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("png: %d %s", r.Status, gatewaytest.Grep(r.Body, "field-error"))
	}
	page := e.get(t, c, "/ui/t/acme/branding")
	src := regexp.MustCompile(`<img src="(/ui/assets/[0-9a-f]{64}\.png)"`).FindStringSubmatch(page.Body)
	if src == nil {
		t.Fatalf("no thumbnail: %s", gatewaytest.Grep(page.Body, "thumb"))
	}
	img := e.get(t, c, src[1])
	if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("thumbnail: %d %q", img.Status, img.Header.Get("Content-Type"))
	}
	if r := e.get(t, gatewaytest.StepBrowser(nil), src[1]); r.Status != http.StatusFound {
		t.Fatalf("thumbnail without a session: %d", r.Status)
	}
}
