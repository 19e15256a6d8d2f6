package gateway

import (
	"image/color"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkBrandedPage measures a signed-in customer's HTML console page
// through the gateway before and after branding is approved (same page,
// same session): the cost of rendering-cache lookup, CSP handling and
// streaming injection.
//
//	./scripts/test.sh -run '^$' -bench BrandedPage -benchmem ./gateway
func BenchmarkBrandedPage(b *testing.B) {
	e := newBrandEnv(b)
	customer, sid := e.customerSignIn(b)
	_ = customer
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, wantChrome bool) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", e.consoleURL+"/page", nil)
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

	pa, op := e.token(b, "pa-acme"), e.token(b, "op-1")
	up := e.upload(b, "acme", pa, pngImage(b, color.RGBA{10, 80, 160, 255}))
	asset := up.body[strings.Index(up.body, `{"sha256"`):strings.Index(up.body, `,"url"`)]
	if r := e.api(b, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, brandDoc(asset, "https://www.acme.example"),
		"Content-Type", "application/json"); r.status != 200 {
		b.Fatalf("draft: %d %s", r.status, r.body)
	}
	var sub struct{ ID string }
	jsonUnmarshal(b, e.api(b, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "").body, &sub)
	if r := e.api(b, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+sub.ID+`"}`,
		"Content-Type", "application/json"); r.status != 200 {
		b.Fatalf("approve: %d %s", r.status, r.body)
	}
	for deadline := time.Now().Add(2 * time.Second); ; {
		if _, body, _ := e.page(b, customer, "/page"); strings.Contains(body, "livery-chrome") {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("branding not live")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Run("branded", func(b *testing.B) { run(b, true) })
}
