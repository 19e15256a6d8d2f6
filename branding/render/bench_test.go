package render

import (
	"fmt"
	"testing"
)

func BenchmarkFragments(b *testing.B) {
	c := Render("acme", 7, sampleDoc(), "zh", DefaultUpstream(), RenderOptions{Now: testNow})
	b.ReportAllocs()
	for b.Loop() {
		f := c.Fragments("张三 <zhang.san@example.com>", "bm9uY2UtdmFsdWU=")
		if len(f.Body) == 0 {
			b.Fatal("empty")
		}
	}
}

func BenchmarkRender(b *testing.B) {
	doc, up := sampleDoc(), DefaultUpstream()
	b.ReportAllocs()
	for b.Loop() {
		_ = Render("acme", 7, doc, "zh", up, RenderOptions{Now: testNow, Preview: true})
	}
}

func BenchmarkCacheGetHit(b *testing.B) {
	c := NewCache(0)
	k := Key{"acme", 7, "zh", false}
	build := func() *Chrome {
		return Render("acme", 7, sampleDoc(), "zh", DefaultUpstream(), RenderOptions{Now: testNow})
	}
	c.Get(k, testNow, build)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = c.Get(k, testNow, build)
		}
	})
}

func BenchmarkAdjustCSP(b *testing.B) {
	const p = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; style-src 'self'; base-uri 'self'; form-action 'self'"
	b.ReportAllocs()
	for b.Loop() {
		_, _ = AdjustCSP(p, "sha256-3j3Egohav1SUQTLmzJ6RKxJpTzZ9QC/F83NPMTY0X5s=")
	}
}

// BenchmarkCSPCache is BenchmarkAdjustCSP's policy, with a nonce that
// changes per response, through the cache (the gateway's path).
func BenchmarkCSPCache(b *testing.B) {
	const p = "default-src 'none'; script-src 'self' 'nonce-%s'; connect-src 'self'; img-src 'self'; style-src 'self' 'nonce-%s'; base-uri 'self'"
	var c CSPCache
	policies := make([][]string, 64)
	for i := range policies {
		n := fmt.Sprintf("n%020d", i)
		policies[i] = []string{fmt.Sprintf(p, n, n)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = c.Adjust(policies[i%len(policies)], "sha256-3j3Egohav1SUQTLmzJ6RKxJpTzZ9QC/F83NPMTY0X5s=")
		i++
	}
}

func BenchmarkLocale(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Locale("en-US,en;q=0.9,zh-CN;q=0.8,zh;q=0.7", "")
	}
}
