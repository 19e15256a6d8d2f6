package branded_test

import (
	"image/color"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
)

// BenchmarkBrandedPage measures a signed-in customer's HTML console page
// through the gateway before and after branding is approved (same page,
// same session): the cost of rendering-cache lookup, CSP handling and
// streaming injection.
//
//	./scripts/test.sh -run '^$' -bench BrandedPage -benchmem ./gateway
func BenchmarkBrandedPage(b *testing.B) {
	e := gatewaytest.NewBrandEnv(b)
	customer, sid := e.CustomerSignIn(b)
	_ = customer
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, wantChrome bool) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", e.ConsoleURL+"/page", nil)
				req.Header.Set("Cookie", "livery_session="+sid)
				req.Header.Set("Accept", "text/html")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || strings.Contains(string(body), "livery-chrome") != wantChrome {
					b.Fatalf("status %d, branded=%v", resp.StatusCode, !wantChrome)
				}
			}
		})
	}
	b.Run("unbranded", func(b *testing.B) { run(b, false) })

	pa, op := e.Token(b, "pa-acme"), e.Token(b, "op-1")
	up := e.Upload(b, "acme", pa, gatewaytest.PNGImage(b, color.RGBA{10, 80, 160, 255}))
	asset := up.Body[strings.Index(up.Body, `{"sha256"`):strings.Index(up.Body, `,"url"`)]
	if r := e.API(b, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, gatewaytest.BrandDoc(asset, "https://www.acme.example"),
		"Content-Type", "application/json"); r.Status != 200 {
		b.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	var sub struct{ ID string }
	gatewaytest.DecodeJSON(b, e.API(b, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "").Body, &sub)
	if r := e.API(b, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+sub.ID+`"}`,
		"Content-Type", "application/json"); r.Status != 200 {
		b.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	for deadline := time.Now().Add(2 * time.Second); ; {
		if _, body, _ := e.Page(b, customer, "/page"); strings.Contains(body, "livery-chrome") {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("branding not live")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Run("branded", func(b *testing.B) { run(b, true) })
}
