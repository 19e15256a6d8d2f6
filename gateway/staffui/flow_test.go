package staffui_test

import (
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/staffui"
)

// TestReviewFlow: submit, reject (reason required, confirmation step,
// nothing rejected before it), the partner sees the reason, resubmit,
// approve; maker–checker refuses the submitter's own approval.
func TestReviewFlow(t *testing.T) {
	e := newUIEnv(t)
	pa, op := e.as(t, "pa-acme"), e.as(t, "op-1")
	f, _ := e.editorForm(t, pa, "acme", map[string]string{"promotions[0].name_zh": "新品", "promotions[0].name_en": "New", "promotions[0].link": "https://new.example/"})
	if r := e.post(t, pa, "/ui/t/acme/branding", f); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.Status)
	}
	tok := e.csrf(t, pa, "/ui/t/acme/branding")
	if r := e.post(t, pa, "/ui/t/acme/branding/submit", url.Values{"_csrf": {tok}}); r.Status != http.StatusSeeOther ||
		!strings.Contains(r.Header.Get("Location"), "done=done.submitted") {
		t.Fatalf("submit: %d %q", r.Status, r.Header.Get("Location"))
	}
	q := e.get(t, op, "/ui/reviews")
	if !strings.Contains(q.Body, `href="/ui/reviews/acme"`) {
		t.Fatalf("queue: %.500s", q.Body)
	}
	rv := e.get(t, op, "/ui/reviews/acme")
	sub := regexp.MustCompile(`name="submission_id" value="([^"]+)"`).FindStringSubmatch(rv.Body)
	if rv.Status != 200 || sub == nil || !strings.Contains(rv.Body, "promotions[0].name_en") || !strings.Contains(rv.Body, "source=pending&amp;locale=zh") {
		t.Fatalf("review page: %d %.600s", rv.Status, rv.Body)
	}
	otok := e.csrf(t, op, "/ui/reviews/acme")
	base := url.Values{"_csrf": {otok}, "submission_id": {sub[1]}}
	// No reason: back to the form with the message; nothing decided.
	r := e.post(t, op, "/ui/reviews/acme/reject", base)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "err=reason_required") {
		t.Fatalf("reject without reason: %d %q", r.Status, r.Header.Get("Location"))
	}
	with := url.Values{"_csrf": {otok}, "submission_id": {sub[1]}, "reason": {"Logo link goes to a 404 page"}}
	r = e.post(t, op, "/ui/reviews/acme/reject", with)
	if r.Status != 200 || !strings.Contains(r.Body, `name="confirm" value="yes"`) || !strings.Contains(r.Body, "Logo link goes to a 404 page") {
		t.Fatalf("confirmation step: %d %.500s", r.Status, r.Body)
	}
	if q := e.get(t, op, "/ui/reviews"); !strings.Contains(q.Body, `href="/ui/reviews/acme"`) {
		t.Fatal("rejected before the confirmation")
	}
	with.Set("confirm", "yes")
	if r := e.post(t, op, "/ui/reviews/acme/reject", with); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done.rejected") {
		t.Fatalf("reject: %d %q", r.Status, r.Header.Get("Location"))
	}
	if ed := e.get(t, pa, "/ui/t/acme/branding"); !strings.Contains(ed.Body, "Logo link goes to a 404 page") || !strings.Contains(ed.Body, "rejected") {
		t.Fatalf("the partner does not see the reason: %s", ed.Body)
	}
	if h := e.get(t, pa, "/ui/t/acme/branding/history"); !strings.Contains(h.Body, "Logo link goes to a 404 page") {
		t.Fatal("history lacks the reason")
	}
	// Resubmit; the operator approves; the console gets the version.
	tok = e.csrf(t, pa, "/ui/t/acme/branding")
	if r := e.post(t, pa, "/ui/t/acme/branding/submit", url.Values{"_csrf": {tok}}); r.Status != http.StatusSeeOther {
		t.Fatalf("resubmit: %d", r.Status)
	}
	rv = e.get(t, op, "/ui/reviews/acme")
	sub = regexp.MustCompile(`name="submission_id" value="([^"]+)"`).FindStringSubmatch(rv.Body)
	if r := e.post(t, op, "/ui/reviews/acme/approve", url.Values{"_csrf": {otok}, "submission_id": {sub[1]}}); r.Status != http.StatusSeeOther ||
		!strings.Contains(r.Header.Get("Location"), "done.approved") {
		t.Fatalf("approve: %d %q", r.Status, r.Header.Get("Location"))
	}
	if h := e.get(t, op, "/ui/t/acme/branding/history"); !strings.Contains(h.Body, "v1") {
		t.Fatalf("no version after approval: %.300s", h.Body)
	}
	// A stale approval (the same submission again) is explained, not a 500.
	r = e.post(t, op, "/ui/reviews/acme/approve", url.Values{"_csrf": {otok}, "submission_id": {sub[1]}})
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "err=") {
		t.Fatalf("stale approve: %d %q", r.Status, r.Header.Get("Location"))
	}
}

// TestCatalog: every text key the templates and handlers use exists, in
// both languages, with the same format verbs.
func TestCatalog(t *testing.T) {
	keys := map[string]bool{}
	lit := regexp.MustCompile(`\bT "([a-z0-9_.]+)"|"((?:nav|done|err|confirm|action|dashboard|editor|queue|review|history|tenants|customers|customer|audit|error|signed_out|pager|hint|keys|img|state|col|field|deleg|gstate|grants|operate|partners|partner|integration|pstatus|prov|inv|achg)\.[a-z0-9_]+)"`)
	err := fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".html") || (strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go"))) || p == "i18n.go" {
			return err
		}
		b, err := os.ReadFile(p)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]+m[2]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 150 {
		t.Fatalf("found only %d keys: the scan is broken", len(keys))
	}
	for k := range keys {
		en, zh, ok := staffui.StaffuiText(k)
		if !ok {
			t.Errorf("key %q is used but not in the catalog", k)
			continue
		}
		if en == "" || zh == "" || en == zh && k != "assoc." {
			t.Errorf("key %q: en %q zh %q", k, en, zh)
		}
		if strings.Count(en, "%") != strings.Count(zh, "%") {
			t.Errorf("key %q: verbs differ: %q / %q", k, en, zh)
		}
	}
}

// TestProblemTranslations: every message the validator produces for a
// thoroughly bad document has a Chinese text in the editor.
func TestProblemTranslations(t *testing.T) {
	msgs := staffui.ValidatorMessages()
	if len(msgs) < 15 {
		t.Fatalf("only %d distinct messages: the bad documents no longer cover the validator: %q", len(msgs), msgs)
	}
	for _, msg := range msgs {
		if zh := staffui.ProblemText("zh", msg); zh == msg {
			t.Errorf("no Chinese text for the validator's %q", msg)
		}
	}
}
