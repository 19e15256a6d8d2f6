package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
)

// chromium starts headless Chromium ($LIVERY_CHROMIUM, else chromium on
// PATH; none is a failure, not a skip) for at most limit.
func chromium(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	path := os.Getenv("LIVERY_CHROMIUM")
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			t.Fatal("this test needs Chromium: set LIVERY_CHROMIUM or install the chromium package (./scripts/test.sh does)")
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(1280, 900))
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() { bcancel(); acancel(); cancel() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// person is one browser profile (its own cookies) in the browser.
type person struct {
	t    *testing.T
	name string
	ctx  context.Context
}

func newPerson(t *testing.T, browser context.Context, name string) *person {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab: without a step deadline
		t.Fatalf("%s: opening a tab: %v", name, err)
	}
	return &person{t: t, name: name, ctx: ctx}
}

// do runs steps with a 20 s deadline.
func (p *person) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("%s: %s: %v (at %s)\n%.600s", p.name, what, err, loc, p.text())
	}
}

// eval evaluates a JavaScript expression on the page.
func eval[T any](p *person, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluating %.60q: %v", p.name, expr, err)
	}
	return v
}

// text is the page's visible text.
func (p *person) text() string {
	return eval[string](p, `document.body ? document.body.innerText : ""`)
}

// shot saves a screenshot to $LIVERY_JOURNEY_SHOTS, when set.
func (p *person) shot(name string) {
	dir := os.Getenv("LIVERY_JOURNEY_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// TestOnboardingInChromium: the whole onboarding in a real browser, on one
// running gateway, no file touched and nothing restarted. The operator
// fills in the new-partner form; the partner admin tests and saves the
// sign-in provider and creates an access key; the partner platform
// registers a customer with that key (the official SDK); the customer
// signs in on the new host and reaches the partner's console.
func TestOnboardingInChromium(t *testing.T) {
	e := startOnboarding(t)
	browser := chromium(t, 2*time.Minute)

	e.provider.SetAutoLogin("olga")
	op := newPerson(t, browser, "operator")
	op.do("open the onboarding form", chromedp.Navigate(e.apiURL+"/ui/onboarding"), chromedp.WaitVisible(chromedp.CSS(`#partner`)))
	op.do("fill it in",
		chromedp.SetValue(chromedp.CSS(`#id`), "nova"), chromedp.SetValue(chromedp.CSS(`#name_zh`), "新星云"), chromedp.SetValue(chromedp.CSS(`#name_en`), "Nova Cloud"),
		chromedp.SetValue(chromedp.CSS(`#hosts`), "127.0.0.1"), chromedp.SetValue(chromedp.CSS(`#upstream`), e.up.URL))
	op.shot("1-operator-onboarding")
	op.do("create the partner", chromedp.Click(chromedp.CSS(`#partner button.primary`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/ui/partners/nova/suspend"]`)))
	if loc := eval[string](op, `location.pathname + location.search`); loc != "/ui/partners/nova?done=done.partner_created" ||
		eval[string](op, `document.querySelector("#name_en").value`) != "Nova Cloud" {
		t.Fatalf("the partner's page after onboarding (%s):\n%.800s", loc, op.text())
	}
	op.shot("2-operator-partner-created")

	e.provider.SetAutoLogin("pat")
	pa := newPerson(t, browser, "partner admin")
	deadline := time.Now().Add(time.Second)
	for {
		pa.do("open the integration page", chromedp.Navigate(e.apiURL+"/ui/t/nova/integration"))
		if eval[bool](pa, `!!document.querySelector("#signin-form")`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the integration page of the new partner did not appear within 1 s:\n%s", pa.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
	provider := func() chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.SetValue(chromedp.CSS(`#signin_issuer`), e.provider.Issuer()), chromedp.SetValue(chromedp.CSS(`#signin_client_id`), "nova-console"),
			chromedp.SetValue(chromedp.CSS(`#signin_client_secret`), "nova-secret"), chromedp.SetValue(chromedp.CSS(`#signin_scopes`), "openid profile"))
	}
	pa.do("fill in the provider", provider())
	pa.do("test it", chromedp.Click(chromedp.CSS(`#signin-form button[formaction$="/integration/test"]`)), chromedp.WaitVisible(chromedp.CSS(`#pr-h`)))
	if txt := pa.text(); !strings.Contains(txt, "Test passed") {
		t.Fatalf("the discovery test:\n%s", txt)
	}
	pa.shot("3-partner-admin-test-passed")
	pa.do("save it", provider(), chromedp.Click(chromedp.CSS(`#signin-form button.primary`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	pa.do("create a key", chromedp.Navigate(e.apiURL+"/ui/t/nova/keys"), chromedp.Click(chromedp.CSS(`form[action="/ui/t/nova/keys"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-sk`)))
	ak, sk := eval[string](pa, `document.querySelector("#new-ak").textContent`), eval[string](pa, `document.querySelector("#new-sk").textContent`)
	pa.shot("4-partner-admin-key")

	sdk := sdkClient(t, e.apiURL, strings.TrimSpace(ak), strings.TrimSpace(sk))
	if _, err := sdk.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{XaccountId: "user-1", XaccountType: "nova"}}); err != nil {
		t.Fatalf("the partner platform registers its customer: %v", err)
	}

	e.provider.SetAutoLogin("user-1")
	cu := newPerson(t, browser, "customer")
	cu.do("open the new console", chromedp.Navigate(e.consoleURL+"/home"), chromedp.WaitReady(chromedp.CSS(`body`)))
	if txt := cu.text(); !regexp.MustCompile(`upstream nova: /home`).MatchString(txt) {
		t.Fatalf("the customer after signing in:\n%s", txt)
	}
	cu.shot("5-customer-console")

	pa.do("reopen the integration page", chromedp.Navigate(e.apiURL+"/ui/t/nova/integration"), chromedp.WaitVisible(chromedp.CSS(`#sum-h`)))
	if txt := pa.text(); !strings.Contains(txt, "create") {
		t.Fatalf("the request summary does not count the registration:\n%s", txt)
	}
	pa.shot("6-partner-admin-summary")
}
