package staffui_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/records"
)

const uiSecret = "ui-s3cret-never-shown"

// partnerForm is a complete, valid onboarding form for id on host.
func partnerForm(tok, id, host string) url.Values {
	return url.Values{"_csrf": {tok}, "id": {id}, "name_zh": {id + "中文"}, "name_en": {id + " Inc"}, "hosts": {host},
		"upstream": {"https://cloud.example/"}, "provisioner_kind": {"builtin"}, "risk_per_device": {"3/24h"},
		"association_type": {"2"}, "signin": {"1"}, "signin_issuer": {"https://idp.example"}, "signin_client_id": {"console"},
		"signin_client_secret": {uiSecret}, "signin_scopes": {"openid profile"}, "signin_skip_discovery": {"1"}}
}

func hiddenValue(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s field: %.600s", name, body)
	}
	return m[1]
}

// TestPartnerOnboarding: the operator's list, onboarding form (each
// refusal beside its field, in both languages), settings form with
// compare-and-swap (a concurrent change keeps the edits), suspension
// (reason, confirmation) and resumption; partner admins cannot.
func TestPartnerOnboarding(t *testing.T) {
	e := newUIEnv(t)
	op := e.as(t, "op-1")
	ctx := context.Background()
	r := e.get(t, op, "/ui/partners")
	if r.Status != 200 || !strings.Contains(r.Body, "New partner") || !strings.Contains(r.Body, `href="/ui/partners"`) {
		t.Fatalf("list: %d %.500s", r.Status, r.Body)
	}
	checkPage(t, "/ui/partners", r)
	r = e.get(t, op, "/ui/onboarding")
	checkPage(t, "/ui/onboarding", r)
	tok := e.csrf(t, op, "/ui/onboarding")

	// Refusals: beside each field, with aria-invalid and aria-describedby.
	bad := partnerForm(tok, "bad id", "a b")
	bad.Set("upstream", "ftp://x")
	r = e.post(t, op, "/ui/partners", bad)
	for _, want := range []string{`id="hosts" name="hosts" rows="3" aria-describedby="hosts-hint hosts-err" aria-invalid="true"`,
		`id="upstream-err"`, `aria-describedby="upstream-err"`, `id="id-err"`, "fields need attention", `value="ftp://x"`} {
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, want) {
			t.Fatalf("invalid form: %d, want %q in %s", r.Status, want, r.Body)
		}
	}
	checkPage(t, "invalid form", r)
	e.get(t, op, "/ui/?lang=zh")
	r = e.post(t, op, "/ui/partners", bad)
	if !strings.Contains(r.Body, "上游控制台地址必须是完整的 http(s) 地址") {
		t.Fatalf("zh messages: %s", r.Body)
	}
	e.get(t, op, "/ui/?lang=en")
	// CSRF: refused, nothing stored.
	noTok := partnerForm("", "initech", "console.initech.test")
	if r := e.post(t, op, "/ui/partners", noTok); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "csrf_failed") {
		t.Fatalf("no token: %d", r.Status)
	}
	if _, err := e.Records.Get(ctx, "initech"); err == nil {
		t.Fatal("created without a CSRF token")
	}
	// Create.
	r = e.post(t, op, "/ui/partners", partnerForm(tok, "initech", "console.initech.test"))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/ui/partners/initech?done=done.partner_created" {
		t.Fatalf("create: %d %q %.400s", r.Status, r.Header.Get("Location"), r.Body)
	}
	// Duplicate id and a host of another partner.
	if r := e.post(t, op, "/ui/partners", partnerForm(tok, "initech", "x.initech.test")); r.Status != 422 || !strings.Contains(r.Body, "already exists") {
		t.Fatalf("duplicate: %d %.300s", r.Status, r.Body)
	}
	r = e.post(t, op, "/ui/partners", partnerForm(tok, "hooli", "console.initech.test"))
	if r.Status != 422 || !strings.Contains(r.Body, `<p class="field-error" id="hosts-err"><span aria-hidden="true">⚠</span> &#34;console.initech.test&#34; is already used by partner &#34;initech&#34;.`) {
		t.Fatalf("host conflict: %d %s", r.Status, r.Body)
	}

	// The settings form: version for CAS, secrets never shown.
	r = e.get(t, op, "/ui/partners/initech")
	checkPage(t, "/ui/partners/initech", r)
	if hiddenValue(t, r.Body, "version") != "1" || strings.Contains(r.Body, uiSecret) || !strings.Contains(r.Body, "A value is stored") {
		t.Fatalf("settings: %s", r.Body)
	}
	edit := partnerForm(tok, "", "console.initech.test")
	edit.Del("signin_client_secret")
	edit.Set("version", "1")
	edit.Set("name_en", "Initech Corporation")
	if r := e.post(t, op, "/ui/partners/initech", edit); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done.partner_saved") {
		t.Fatalf("save: %d %.400s", r.Status, r.Body)
	}
	rec, _ := e.Records.Get(ctx, "initech")
	if rec.Version != 2 || rec.Name.EN != "Initech Corporation" || rec.SignIn == nil || len(rec.SignIn.ClientSecretSealed) == 0 {
		t.Fatalf("stored: %+v", rec)
	}
	// Stale: the edits stay, "changed by someone else", save over it.
	edit.Set("name_en", "My Edit")
	r = e.post(t, op, "/ui/partners/initech", edit)
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "Changed by someone else") || !strings.Contains(r.Body, `value="My Edit"`) ||
		hiddenValue(t, r.Body, "current_version") != "2" {
		t.Fatalf("stale save: %d %s", r.Status, r.Body)
	}
	if rec, _ := e.Records.Get(ctx, "initech"); rec.Name.EN != "Initech Corporation" {
		t.Fatal("a stale save was stored")
	}
	edit.Set("overwrite", "1")
	edit.Set("current_version", "2")
	if r := e.post(t, op, "/ui/partners/initech", edit); r.Status != http.StatusSeeOther {
		t.Fatalf("overwrite: %d %.400s", r.Status, r.Body)
	}
	if rec, _ := e.Records.Get(ctx, "initech"); rec.Name.EN != "My Edit" || rec.Version != 3 {
		t.Fatalf("overwrite stored %+v", rec)
	}
	if r := e.get(t, op, "/ui/partners/initech"); !strings.Contains(r.Body, `<option value="store" selected>`) || !strings.Contains(r.Body, `href="/ui/t/initech/integration"`) {
		t.Fatalf("managed select or links: %s", r.Body)
	}
	edit.Del("overwrite")
	edit.Set("version", "3")
	edit.Set("managed", "file")
	if r := e.post(t, op, "/ui/partners/initech", edit); r.Status != http.StatusSeeOther {
		t.Fatalf("managed file: %d %.400s", r.Status, r.Body)
	}
	if rec, _ := e.Records.Get(ctx, "initech"); rec.Managed != records.ManagedFile || rec.Version != 4 {
		t.Fatalf("managed: %+v", rec)
	}

	// Suspend: reason required, a confirmation, then done; resume.
	sus := url.Values{"_csrf": {tok}}
	if r := e.post(t, op, "/ui/partners/initech/suspend", sus); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "err=reason_required") {
		t.Fatalf("suspend without reason: %d %q", r.Status, r.Header.Get("Location"))
	}
	if r := e.get(t, op, "/ui/partners/initech?err=reason_required"); !strings.Contains(r.Body, `aria-describedby="reason-err"`) {
		t.Fatalf("reason error not beside the field: %s", r.Body)
	}
	sus.Set("reason", "contract ended")
	r = e.post(t, op, "/ui/partners/initech/suspend", sus)
	if r.Status != 200 || !strings.Contains(r.Body, `name="confirm" value="yes"`) || !strings.Contains(r.Body, "contract ended") {
		t.Fatalf("confirmation: %d %s", r.Status, r.Body)
	}
	if rec, _ := e.Records.Get(ctx, "initech"); rec.Status != records.StatusActive {
		t.Fatal("suspended before the confirmation")
	}
	sus.Set("confirm", "yes")
	if r := e.post(t, op, "/ui/partners/initech/suspend", sus); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done.partner_suspended") {
		t.Fatalf("suspend: %d %q", r.Status, r.Header.Get("Location"))
	}
	if rec, _ := e.Records.Get(ctx, "initech"); rec.Status != records.StatusSuspended {
		t.Fatalf("not suspended: %+v", rec)
	}
	if r := e.get(t, op, "/ui/partners/initech"); !strings.Contains(r.Body, "Resume service") {
		t.Fatalf("no resume button: %s", r.Body)
	}
	if r := e.post(t, op, "/ui/partners/initech/resume", url.Values{"_csrf": {tok}}); r.Status != http.StatusSeeOther {
		t.Fatalf("resume: %d", r.Status)
	}
	if rec, _ := e.Records.Get(ctx, "initech"); rec.Status != records.StatusActive {
		t.Fatal("not resumed")
	}
	if r := e.get(t, op, "/ui/partners"); !strings.Contains(r.Body, `href="/ui/partners/initech"`) {
		t.Fatalf("list: %s", r.Body)
	}

	// A partner admin: none of the operator's pages or forms.
	pa := e.as(t, "pa-acme")
	ptok := e.csrf(t, pa, "/ui/t/acme/keys")
	for _, tc := range []struct {
		method, path string
	}{{"GET", "/ui/partners"}, {"GET", "/ui/onboarding"}, {"POST", "/ui/partners"}, {"GET", "/ui/partners/initech"},
		{"POST", "/ui/partners/acme"}, {"POST", "/ui/partners/acme/suspend"}, {"POST", "/ui/partners/acme/resume"}} {
		var r = e.get(t, pa, tc.path)
		if tc.method == "POST" {
			f := partnerForm(ptok, "acme2", "x.acme2.test")
			f.Set("reason", "x")
			f.Set("confirm", "yes")
			r = e.post(t, pa, tc.path, f)
		}
		if r.Status != http.StatusForbidden {
			t.Errorf("pa-acme %s %s: %d", tc.method, tc.path, r.Status)
		}
	}
	if _, err := e.Records.Get(ctx, "acme2"); err == nil {
		t.Fatal("a partner admin created a partner")
	}
}

// TestIntegrationPage: the partner admin's own sign-in provider (the
// secret write-only, kept when blank), the discovery test with what
// failed, the request summary, the way to the keys (with last use);
// another tenant's page and a customer manager are refused.
func TestIntegrationPage(t *testing.T) {
	e := newUIEnv(t)
	ctx := context.Background()
	sec := uiSecret
	if _, err := e.Records.Create(ctx, records.Input{ID: "acme", Name: records.Names{ZH: "阿克米", EN: "Acme"}, Hosts: []string{"console.acme.test"},
		Upstream: "https://cloud.example/", SignIn: &records.SignInInput{Issuer: "https://idp.example", ClientID: "console", ClientSecret: &sec}},
		authz.Subject{User: "op-1", Roles: []string{authz.RoleOperator}}); err != nil {
		t.Fatal(err)
	}
	e.Stats.Record(ctx, "acme", "create", "")
	e.Stats.Record(ctx, "acme", "query", "CBC.0154")
	pa := e.as(t, "pa-acme")
	r := e.get(t, pa, "/ui/t/acme/integration")
	checkPage(t, "/ui/t/acme/integration", r)
	for _, want := range []string{`name="signin_issuer"`, "A value is stored", `type="password"`, "Test the provider", `href="/ui/t/acme/keys"`,
		"<code>CBC.0154</code>", "requests: 2", `href="/ui/t/acme/integration" aria-current="page"`} {
		if r.Status != 200 || !strings.Contains(r.Body, want) {
			t.Fatalf("integration page lacks %q: %d %s", want, r.Status, r.Body)
		}
	}
	if strings.Contains(r.Body, uiSecret) {
		t.Fatal("the secret is on the page")
	}
	for _, tc := range []struct{ who, path string }{{"pa-acme", "/ui/t/globex/integration"}, {"cm-acme", "/ui/t/acme/integration"}} {
		if r := e.get(t, e.as(t, tc.who), tc.path); r.Status != http.StatusForbidden {
			t.Errorf("%s %s: %d", tc.who, tc.path, r.Status)
		}
	}
	tok := e.csrf(t, pa, "/ui/t/acme/integration")
	form := url.Values{"_csrf": {tok}, "version": {"1"}, "signin_issuer": {e.IDP.Issuer()}, "signin_client_id": {"livery"}, "signin_scopes": {"openid"}}
	// The test: passes on the test IdP, explains a closed port; the edits stay, nothing is saved.
	r = e.post(t, pa, "/ui/t/acme/integration/test", form)
	if r.Status != 200 || !strings.Contains(r.Body, "Test passed") || !strings.Contains(r.Body, `value="livery"`) {
		t.Fatalf("test ok: %d %s", r.Status, r.Body)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	bad := url.Values{"_csrf": {tok}, "version": {"1"}, "signin_issuer": {closed}, "signin_client_id": {"livery"}}
	r = e.post(t, pa, "/ui/t/acme/integration/test", bad)
	if r.Status != 200 || !strings.Contains(r.Body, "Test failed") || !strings.Contains(r.Body, "cannot be reached") {
		t.Fatalf("test failure: %d %s", r.Status, r.Body)
	}
	if rec, _ := e.Records.Get(ctx, "acme"); rec.Version != 1 {
		t.Fatal("the test saved something")
	}
	if r := e.post(t, pa, "/ui/t/acme/integration/test", url.Values{"version": {"1"}, "signin_issuer": {closed}}); r.Status != http.StatusForbidden {
		t.Fatalf("test without CSRF token: %d", r.Status)
	}
	// Invalid: beside the field.
	inv := url.Values{"_csrf": {tok}, "version": {"1"}, "signin_issuer": {"ftp://x"}, "signin_client_id": {""}}
	r = e.post(t, pa, "/ui/t/acme/integration", inv)
	if r.Status != 422 || !strings.Contains(r.Body, `aria-describedby="signin_issuer-err"`) || !strings.Contains(r.Body, `id="signin_client_id-err"`) {
		t.Fatalf("invalid: %d %s", r.Status, r.Body)
	}
	// Save: only the sign-in changes; the blank secret is kept.
	if r := e.post(t, pa, "/ui/t/acme/integration", url.Values{"version": {"1"}, "signin_issuer": {e.IDP.Issuer()}}); r.Status != http.StatusForbidden {
		t.Fatalf("save without CSRF token: %d", r.Status)
	}
	if r := e.post(t, pa, "/ui/t/acme/integration", form); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done.signin_saved") {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	rec, _ := e.Records.Get(ctx, "acme")
	if rec.Version != 2 || rec.SignIn.ClientID != "livery" || rec.SignIn.Issuer != e.IDP.Issuer() || len(rec.SignIn.ClientSecretSealed) == 0 ||
		rec.Upstream != "https://cloud.example/" || rec.Name.EN != "Acme" {
		t.Fatalf("stored: %+v", rec)
	}
	// Stale: kept, explained.
	form.Set("signin_client_id", "mine")
	r = e.post(t, pa, "/ui/t/acme/integration", form)
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "Changed by someone else") || !strings.Contains(r.Body, `value="mine"`) {
		t.Fatalf("stale: %d %s", r.Status, r.Body)
	}
	// A customer manager cannot save the sign-in.
	cm := e.as(t, "cm-acme")
	x := e.Cust["X"].DomainID
	// (the delegation form gives the customer manager a token)
	e.post(t, pa, "/ui/t/acme/delegation-agreement", url.Values{"_csrf": {tok}, "version": {delegation.Agreement().Version}, "customer": {x}})
	ctok := e.csrf(t, cm, "/ui/t/acme/customers/"+x)
	form.Set("_csrf", ctok)
	form.Set("version", "2")
	if r := e.post(t, cm, "/ui/t/acme/integration", form); r.Status != http.StatusForbidden {
		t.Fatalf("customer manager save: %d", r.Status)
	}
	// The keys page shows a key's last use.
	k, _, err := e.Keys.Create(ctx, tenants.Actor{Subject: authz.Subject{User: "pa-acme"}}, "acme")
	if err != nil {
		t.Fatal(err)
	}
	e.Keys.Used(ctx, "acme", k.AccessKey)
	r = e.get(t, pa, "/ui/t/acme/keys")
	row := regexp.MustCompile(`(?s)<tr><td><code>` + k.AccessKey + `</code></td>.*?</tr>`).FindString(r.Body)
	if row == "" || strings.Contains(row, "never") || strings.Count(row, " UTC") < 2 {
		t.Fatalf("key row without last use: %q", row)
	}
}

// TestOnboardingRefusesIssuerWithoutDiscovery: a new partner whose sign-in
// issuer has no working discovery is refused beside the issuer field (in
// the visitor's language), with the box to save it anyway; ticked, the
// partner is saved; a working issuer is saved at once.
func TestOnboardingRefusesIssuerWithoutDiscovery(t *testing.T) {
	e := newUIEnv(t)
	op := e.as(t, "op-1")
	tok := e.csrf(t, op, "/ui/onboarding")
	f := partnerForm(tok, "stark", "console.stark.test")
	f.Del("signin_skip_discovery")
	f.Set("signin_issuer", "http://127.0.0.1:1")
	r := e.post(t, op, "/ui/partners", f)
	for _, want := range []string{`id="signin_issuer-err"`, "discovery does not work", `name="signin_skip_discovery"`, `value="http://127.0.0.1:1"`} {
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, want) {
			t.Fatalf("issuer without discovery: %d, want %q in %.3000s", r.Status, want, r.Body)
		}
	}
	if _, err := e.Records.Get(context.Background(), "stark"); err == nil {
		t.Fatal("the refused partner was stored")
	}
	f.Set("signin_skip_discovery", "1")
	if r := e.post(t, op, "/ui/partners", f); r.Status != http.StatusSeeOther {
		t.Fatalf("saved anyway: %d %.400s", r.Status, r.Body)
	}
	if _, err := e.Records.Get(context.Background(), "stark"); err != nil {
		t.Fatalf("saved anyway, but not stored: %v", err)
	}
	g := partnerForm(tok, "wayne", "console.wayne.test")
	g.Del("signin_skip_discovery")
	g.Set("signin_issuer", e.IDP.Issuer())
	if r := e.post(t, op, "/ui/partners", g); r.Status != http.StatusSeeOther {
		t.Fatalf("a working issuer: %d %.400s", r.Status, r.Body)
	}
}
