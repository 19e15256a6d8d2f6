// Command screenshots drives a running demo (go run ./cmd/demo) in
// Chromium and writes screenshots of the staff web UI's main pages, in
// Chinese and English, at desktop and phone widths, into docs/screenshots/.
//
//	go run ./scripts/screenshots -operator-password P1 -admin-password P2
//
// The passwords are the ones the demo prints at start. With -delegation it
// instead walks through delegated operations (a new customer signs up on the
// demo partner platform, the partner admin requests a grant, the customer
// approves it in My partners, the partner admin operates the console) and
// writes docs/screenshots/delegation-*.png:
//
//	go run ./scripts/screenshots -delegation -admin-password P2
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	api := flag.String("api", "http://127.0.0.1:8081", "the demo's API listener")
	out := flag.String("out", "docs/screenshots", "output directory")
	opPass := flag.String("operator-password", "", "the demo operator's password")
	adPass := flag.String("admin-password", "", "the demo partner admin's password")
	only := flag.String("only", "", "only this role (operator or partner-admin)")
	deleg := flag.Bool("delegation", false, "the delegated-operations journey instead (needs -admin-password)")
	assoc := flag.Bool("association", false, "the customer-association journey instead (needs -admin-password and -cloud-password)")
	cloudUser := flag.String("cloud-user", "lilei", "the Demo Cloud account invited (with -association)")
	cloudPass := flag.String("cloud-password", "", "its password (the demo prints it)")
	partner := flag.String("partner", "http://127.0.0.1:9091", "the demo partner platform (with -delegation)")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	chrome := os.Getenv("LIVERY_CHROMIUM")
	if chrome == "" {
		chrome = "chromium"
	}
	if *assoc {
		associationJourney(chrome, *api, *out, *adPass, *cloudUser, *cloudPass)
		return
	}
	if *deleg {
		delegationJourney(chrome, *api, *partner, *out, *adPass)
		return
	}
	type role struct {
		user, pass string
		pages      []string
	}
	roles := []role{
		{"partner-admin", *adPass, []string{"/ui/", "/ui/t/demo/branding", "/ui/t/demo/branding/history", "/ui/t/demo/customers", "/ui/t/demo/keys", "/ui/t/demo/audit", "/ui/t/demo/integration"}},
		{"operator", *opPass, []string{"/ui/", "/ui/reviews", "/ui/tenants", "/ui/reviews/demo", "/ui/partners", "/ui/onboarding", "/ui/partners/demo"}},
	}
	for i, r := range roles {
		if *only != "" && *only != r.user {
			continue
		}
		if i == 1 && *only == "" {
			// Before the operator's pages: the partner admin changes the
			// draft and submits it, so that the queue and the review page
			// have something to show.
			submit(chrome, *api, roles[0].user, roles[0].pass)
		}
		for _, w := range []struct {
			name string
			w, h int
		}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
			langs := []string{"en", "zh"}
			if w.name == "phone" {
				langs = []string{"zh"} // the longer-wrapping language at phone width
			}
			for _, lang := range langs {
				opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
					chromedp.WindowSize(w.w, w.h), chromedp.Flag("lang", map[string]string{"zh": "zh-CN", "en": "en-US"}[lang]))
				actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
				ctx, cancel2 := chromedp.NewContext(actx)
				ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
				_, err := chromedp.Run(ctx, chromedp.Navigate(*api+"/ui/?lang="+lang))
				must(err)
				time.Sleep(500 * time.Millisecond)
				_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`(()=>{const f=document.querySelector('form');f.querySelector('input[name=username]').value=`+
					fmt.Sprintf("%q", r.user)+`;f.querySelector('input[type=password]').value=`+fmt.Sprintf("%q", r.pass)+`;f.submit();return 1})()`))
				must(err)
				time.Sleep(1500 * time.Millisecond)
				for i, p := range r.pages {
					_, err := chromedp.Run(ctx, chromedp.Navigate(*api+p))
					must(err)
					time.Sleep(1200 * time.Millisecond)
					b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
					must(err)
					name := fmt.Sprintf("%s-%d-%s-%s.png", r.user, i+1, w.name, lang)
					must(os.WriteFile(filepath.Join(*out, name), b, 0o644))
					fmt.Println("wrote", name, p)
				}
				cancel3()
				cancel2()
				cancel()
			}
		}
	}
}

// submit signs in as the partner admin, adds a promotion to the draft,
// saves and submits it.
func submit(chrome, api, user, pass string) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(actx)
	defer cancel2()
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	defer cancel3()
	run := func(js string) {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
		must(err)
		time.Sleep(1500 * time.Millisecond)
	}
	_, err := chromedp.Run(ctx, chromedp.Navigate(api+"/ui/t/demo/branding"))
	must(err)
	time.Sleep(500 * time.Millisecond)
	run(`(()=>{const f=document.querySelector('form');f.querySelector('input[name=username]').value=` + fmt.Sprintf("%q", user) +
		`;f.querySelector('input[type=password]').value=` + fmt.Sprintf("%q", pass) + `;f.submit();return 1})()`)
	run(`(()=>{const v={"promotions[1].name_zh":"云服务器特惠","promotions[1].name_en":"Cloud server offers","promotions[1].link":"https://www.example.com/ecs"};` +
		`for(const k in v){document.getElementById(k).value=v[k]};document.getElementById('editor').submit();return 1})()`)
	run(`(()=>{document.querySelector('form[action$="/branding/submit"]').submit();return 1})()`)
	fmt.Println("submitted the draft for review")
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "screenshots:", err)
	os.Exit(1)
}
