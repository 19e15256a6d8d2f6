package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/workflow"
)

// seedDemoBranding gives the demo tenant an approved branding on first
// start, through the real workflow (drafted and submitted by the demo
// partner admin, approved by the demo operator, both audited), so the demo
// console is branded at once. A tenant that already has live branding is
// left alone.
func seedDemoBranding(ctx context.Context, wf *workflow.Service, tenant string) error {
	if v, err := wf.Live(ctx, tenant); err != nil || v != nil {
		return err
	}
	admin := authz.Subject{User: "staff-partner-admin", Roles: []string{"partner_admin"}, Tenant: tenant}
	operator := authz.Subject{User: "staff-operator", Roles: []string{"operator"}}
	logo, err := wf.PutImage(ctx, tenant, demoLogo(), admin)
	if err != nil {
		return err
	}
	doc := workflow.DefaultDocument()
	doc.Brand = branding.Brand{LogoZH: logo, LogoEN: logo, LinkZH: "https://www.example.com/zh/",
		LinkEN: "https://www.example.com/en/", NavColor: "#0B5394"}
	doc.Promotions = []branding.Item{{NameZH: "新用户特惠", NameEN: "New customer offers", Link: "https://www.example.com/offers"}}
	doc.Menus.Custom = []branding.Item{{NameZH: "伙伴支持", NameEN: "Partner support", Link: "https://www.example.com/support"}}
	d, err := wf.Draft(ctx, tenant)
	if err != nil {
		return err
	}
	if _, err := wf.PutDraft(ctx, tenant, doc, d.ETag, admin); err != nil {
		return err
	}
	sub, err := wf.Submit(ctx, tenant, admin)
	if err != nil {
		return err
	}
	_, err = wf.Approve(ctx, tenant, sub.ID, operator, "demo branding")
	return err
}

// demoLogo draws a small two-colour PNG logo.
func demoLogo() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 32))
	for x := range 96 {
		for y := range 32 {
			c := color.RGBA{0x0B, 0x53, 0x94, 0xFF}
			if x < 32 {
				c = color.RGBA{0xF1, 0xC2, 0x32, 0xFF}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
