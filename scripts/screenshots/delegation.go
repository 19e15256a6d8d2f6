package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// tab is one person's browser context.
type tab struct {
	ctx context.Context
	out string
}

func (b tab) nav(u string) {
	_, err := chromedp.Run(b.ctx, chromedp.Navigate(u))
	must(err)
	time.Sleep(900 * time.Millisecond)
}

// js evaluates an expression and waits for what it triggers.
func (b tab) js(expr string) string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](expr))
	must(err)
	time.Sleep(1200 * time.Millisecond)
	return fmt.Sprint(v)
}

func (b tab) lang(origin, l string) {
	_, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{Name: "livery_lang", Value: l, URL: origin, Path: "/"})
	must(err)
}

func (b tab) shot(name string) {
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	must(err)
	must(os.WriteFile(filepath.Join(b.out, name), png, 0o644))
	fmt.Println("wrote", name)
}

// browser starts Chromium for a journey of at most 3 minutes; newTab opens
// one person's profile (its own cookies).
func browser(chrome, out string) (newTab func() tab, done func()) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel2 := chromedp.NewContext(actx)
	bctx, cancel3 := context.WithTimeout(bctx, 3*time.Minute)
	must(chromedp.Do(bctx))
	return func() tab {
		ctx, _ := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		must(chromedp.Do(ctx))
		return tab{ctx: ctx, out: out}
	}, func() { cancel3(); cancel2(); cancel() }
}

// delegationJourney signs a new customer up, has the partner admin
// request a grant, the customer approve it, and the partner admin operate
// the console, with screenshots of each step.
func delegationJourney(chrome, api, partner, out, adminPass string) {
	if adminPass == "" {
		fail(fmt.Errorf("-delegation needs -admin-password"))
	}
	newTab, done := browser(chrome, out)
	defer done()

	// The customer signs up and goes to the console.
	cust := newTab()
	cust.nav(partner + "/")
	user := fmt.Sprintf("resale%d", time.Now().Unix()%100000)
	cust.js(fmt.Sprintf(`(()=>{const f=document.querySelector('form[action="signup"]');f.username.value=%q;f.password.value="resale-pass-1";`+
		`f.account_name.value="resale_co_"+f.username.value.slice(6);f.submit();return 1})()`, user))
	if !strings.Contains(cust.js(`document.body.innerText`), "is ready") {
		fail(fmt.Errorf("sign-up: %s", cust.js(`document.body.innerText`)))
	}
	id := cust.js(`document.querySelector("code").textContent`)
	cust.js(`(()=>{document.getElementById("console-form").submit();return 1})()`)
	console := cust.js(`location.origin`)
	fmt.Println("customer", user, id, "at", console)

	// The partner admin requests a grant.
	pa := newTab()
	pa.nav(api + "/ui/?lang=en")
	pa.js(`(()=>{const f=document.querySelector('form');f.querySelector('input[name=username]').value="partner-admin";` +
		`f.querySelector('input[type=password]').value=` + fmt.Sprintf("%q", adminPass) + `;f.submit();return 1})()`)
	page := api + "/ui/t/demo/customers/" + id
	pa.nav(page + "?lang=en")
	pa.js(`(()=>{const f=document.querySelector('form[action$="/delegation-agreement"]');if(f)f.submit();return 1})()`)
	pa.nav(page + "?lang=zh")
	pa.shot("delegation-1-request-zh.png")
	pa.nav(page + "?lang=en")
	pa.js(`(()=>{for(const s of ["resources","finance_read"])document.getElementById("scope-"+s).checked=true;` +
		`document.getElementById("reason").value="Migrate the web servers to the new region / 迁移网站服务器到新区域";` +
		`document.getElementById("delegation").scrollIntoView();return 1})()`)
	pa.shot("delegation-1-request-en.png")
	pa.js(`(()=>{document.querySelector('form[action$="/delegations"]').submit();return 1})()`)

	// The customer approves in My partners.
	for _, l := range []string{"zh", "en"} {
		cust.lang(console, l)
		cust.nav(console + "/_livery/partners")
		cust.shot("delegation-2-my-partners-" + l + ".png")
	}
	cust.js(`(()=>{document.getElementById("lp-approve").click();return 1})()`)

	// The partner admin operates the console.
	pa.nav(page + "?lang=en")
	pa.nav(pa.js(`document.querySelector('#delegation a[href$="/operate"]').href`))
	pa.shot("delegation-3-operate-en.png")
	pa.js(`(()=>{document.querySelector("main form button.primary").click();return 1})()`)
	for _, l := range []string{"zh", "en"} {
		pa.lang(console, l)
		pa.nav(console + "/resources")
		if !strings.Contains(pa.js(`document.body.innerText`), "Switch back") {
			fail(fmt.Errorf("no banner on %s", console+"/resources"))
		}
		pa.shot("delegation-4-banner-" + l + ".png")
	}
	pa.js(`(()=>{const f=document.createElement("form");f.method="post";f.action="/marketplace/orders";document.body.appendChild(f);f.submit();return 1})()`)
	pa.shot("delegation-5-denied-en.png")
	pa.lang(console, "zh")
	pa.nav(console + "/marketplace/orders")
	pa.shot("delegation-5-denied-zh.png")

	// The customer's activity log.
	for _, l := range []string{"zh", "en"} {
		cust.lang(console, l)
		cust.nav(console + "/_livery/partners/activity")
		cust.shot("delegation-6-activity-" + l + ".png")
	}

	// Switch back.
	pa.nav(console + "/")
	pa.js(`(()=>{document.getElementById("livery-delegation-leave").click();return 1})()`)
	fmt.Println("switched back to", pa.js(`location.href`))
}
