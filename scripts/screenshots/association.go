package main

import (
	"fmt"
	"strings"
)

// associationJourney runs the customer association on the running demo:
// the partner admin invites, a Demo Cloud account opens the link, signs in
// with its cloud account, signs the notice and accepts; the partner admin
// requests a change to resale, the customer confirms it, and the partner
// admin sees the next allowed change date. It fails loudly at any step.
func associationJourney(chrome, api, out, adminPass, cloudUser, cloudPass string) {
	if adminPass == "" || cloudPass == "" {
		fail(fmt.Errorf("-association needs -admin-password and -cloud-password (the demo prints both)"))
	}
	newTab, done := browser(chrome, out)
	defer done()
	signIn := func(b tab, user, pass string) {
		b.js(`(()=>{const f=document.querySelector('form');f.querySelector('input[name=username]').value=` + fmt.Sprintf("%q", user) +
			`;f.querySelector('input[type=password]').value=` + fmt.Sprintf("%q", pass) + `;f.submit();return 1})()`)
	}
	text := func(b tab) string { return b.js(`document.body.innerText`) }

	pa := newTab()
	pa.nav(api + "/ui/t/demo/invitations?lang=en")
	signIn(pa, "partner-admin", adminPass)
	pa.nav(api + "/ui/t/demo/invitations?lang=en")
	pa.js(`(()=>{document.querySelector('form[action="/ui/t/demo/invitations"]').submit();return 1})()`)
	link := strings.TrimSpace(pa.js(`(document.querySelector("#inv-link")||{}).textContent||""`))
	if !strings.Contains(link, "/_livery/invitations/") {
		fail(fmt.Errorf("no invitation link: %s", text(pa)))
	}
	pa.shot("association-1-link-en.png")
	fmt.Println("invitation link", link)

	cu := newTab()
	origin := link[:strings.Index(link, "/_livery/")]
	cu.lang(origin, "zh")
	cu.nav(link)
	cu.shot("association-2-sign-in-zh.png")
	cu.js(`(()=>{document.getElementById("lp-inv-cloud-signin").click();return 1})()`)
	signIn(cu, cloudUser, cloudPass)
	if !strings.Contains(cu.js(`location.pathname`), "/_livery/invitations/") {
		fail(fmt.Errorf("after the cloud sign-in: %s %s", cu.js(`location.href`), text(cu)))
	}
	cu.shot("association-3-notice-zh.png")
	cu.lang(origin, "en")
	cu.nav(link)
	cu.shot("association-3-notice-en.png")
	cu.js(`(()=>{document.querySelector("input[name=agree]").checked=true;document.getElementById("lp-sign").submit();return 1})()`)
	cu.js(`(()=>{document.getElementById("lp-inv-accept").click();return 1})()`)
	if !strings.Contains(text(cu), "associated") {
		fail(fmt.Errorf("after accepting: %s", text(cu)))
	}
	cu.shot("association-4-associated-en.png")

	pa.nav(api + "/ui/t/demo/invitations?lang=en")
	pa.shot("association-5-accepted-en.png")
	account := strings.TrimSpace(pa.js(`(document.querySelector("#invitations tbody tr td:nth-child(4) code:last-of-type")||{}).textContent||""`))
	page := api + "/ui/t/demo/customers/" + account + "?lang=en"
	pa.nav(page)
	pa.js(`(()=>{document.getElementById("achg-reason").value="Resale billing from next month / 下月起改为代售结算";document.getElementById("assoc-change").submit();return 1})()`)
	pa.js(`(()=>{document.getElementById("association").scrollIntoView();return 1})()`)
	pa.shot("association-6-change-requested-en.png")

	cu.lang(origin, "zh")
	cu.nav(origin + "/_livery/partners")
	cu.shot("association-7-confirm-zh.png")
	cu.js(`(()=>{document.getElementById("lp-change-confirm").click();return 1})()`)

	pa.nav(page)
	if pa.js(`!!document.getElementById("assoc-change")`) != "false" {
		fail(fmt.Errorf("a second change is offered within three months: %s", text(pa)))
	}
	pa.shot("association-8-next-change-en.png")
	fmt.Println("associated", account, "; next change allowed", pa.js(`document.getElementById("assoc-next").textContent`))
}
