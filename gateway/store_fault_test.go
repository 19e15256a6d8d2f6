package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image/color"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/internal/objstore"
)

// TestStoreFaults takes the object store away under a running gateway —
// MinIO frozen with SIGSTOP (connections up, no answers), MinIO killed
// (connection refused), the directory store's root gone — and checks every
// door that reaches the store: each answers 503 with Retry-After within a
// generous bound of store.timeout (an upper bound, not a performance
// claim), with store_unavailable on the admin API and assets and CBC.0999
// on the partner API; a logo served once before keeps being served from
// the in-process cache; /readyz names the store.
func TestStoreFaults(t *testing.T) {
	const timeout = time.Second
	for _, fc := range []struct{ driver, fault string }{
		{"s3", "frozen"}, {"s3", "stopped"}, {"dir", "gone"},
	} {
		t.Run(fc.driver+"/"+fc.fault, func(t *testing.T) {
			e := gatewaytest.NewStoreEnv(t, fc.driver, timeout)
			cachedLogo := gatewaytest.PNGImage(t, color.RGBA{200, 0, 0, 255})
			_, cachedURL := e.Logo(t, color.RGBA{200, 0, 0, 255})
			if r := e.Asset(t, cachedURL); r.Status != http.StatusOK || r.Body != string(cachedLogo) {
				t.Fatalf("first fetch of the logo: %d", r.Status)
			}
			otherAsset, otherURL := e.Logo(t, color.RGBA{0, 0, 200, 255}) // uploaded, never served
			create := func(xid string) string {
				return `{"xaccount_id":"` + xid + `","xaccount_type":"acme-platform","domain_name":"` + strings.ReplaceAll(xid, "-", "_") + `_co"}`
			}
			if r := e.PartnerCall(t, "/v2/partners/sub-customers", create("fault-before")); r.Status != http.StatusOK {
				t.Fatalf("create with the store up: %d %s", r.Status, r.Body)
			}

			e.TakeDown(t, fc.fault)

			doors := []struct {
				name string
				call func(t *testing.T) gatewaytest.Response
				code string
			}{
				{"partner create", func(t *testing.T) gatewaytest.Response {
					return e.PartnerCall(t, "/v2/partners/sub-customers", create("fault-during"))
				}, "CBC.0999"},
				{"admin draft write", func(t *testing.T) gatewaytest.Response {
					return e.AdminCall(t, http.MethodPut, "/admin/v1/tenants/acme/branding/draft",
						gatewaytest.BrandDoc(otherAsset, "https://www.acme.example"), "Content-Type", "application/json")
				}, "store_unavailable"},
				{"admin draft read", func(t *testing.T) gatewaytest.Response {
					return e.AdminCall(t, http.MethodGet, "/admin/v1/tenants/acme/branding/draft", "")
				}, "store_unavailable"},
				{"admin image upload", func(t *testing.T) gatewaytest.Response {
					return e.Upload(t, "acme", e.Token(t, "pa-acme"), gatewaytest.PNGImage(t, color.RGBA{0, 200, 0, 255}))
				}, "store_unavailable"},
				{"asset not yet cached", func(t *testing.T) gatewaytest.Response { return e.Asset(t, otherURL) }, "store_unavailable"},
			}
			for _, d := range doors {
				t.Run(d.name, func(t *testing.T) {
					start := time.Now()
					r := d.call(t)
					elapsed := time.Since(start)
					if r.Status != http.StatusServiceUnavailable {
						t.Fatalf("status %d, want 503: %s", r.Status, r.Body)
					}
					if code := r.ErrorCode(t); code != d.code {
						t.Errorf("error_code %q, want %q", code, d.code)
					}
					if r.Header.Get("Retry-After") == "" {
						t.Errorf("no Retry-After on the 503")
					}
					if elapsed > 4*timeout {
						t.Errorf("answered after %s with a %s store timeout", elapsed, timeout)
					}
				})
			}
			t.Run("cached logo still served", func(t *testing.T) {
				r := e.Asset(t, cachedURL)
				if r.Status != http.StatusOK || r.Body != string(cachedLogo) {
					t.Fatalf("logo with the store down: %d %q", r.Status, r.Body)
				}
				if r.Header.Get("Content-Type") != "image/png" || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") ||
					r.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Fatalf("cached logo headers: %v", r.Header)
				}
			})
			t.Run("readyz names the store", func(t *testing.T) {
				start := time.Now()
				r := e.Send(t, gatewaytest.NewRequest(t, http.MethodGet, e.OpsURL+"/readyz", nil))
				elapsed := time.Since(start)
				if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, `"store":"failed"`) ||
					!strings.Contains(r.Body, `"redis":"ok"`) {
					t.Fatalf("readyz: %d %s", r.Status, r.Body)
				}
				if elapsed > 4*timeout {
					t.Errorf("readyz answered after %s", elapsed)
				}
			})
		})
	}
}

// TestReadyzAnswersWhenACheckHangs: a readiness check that ignores its
// context (a stuck driver) is reported failed when the probe's deadline
// passes, instead of holding the probe forever.
func TestReadyzAnswersWhenACheckHangs(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	g := gatewaytest.StartGateway(t, "http://127.0.0.1:1", func(o *gateway.Options) {
		o.Checks = []gateway.Check{
			{Name: "redis", Check: func(context.Context) error { return nil }},
			{Name: "store", Check: func(context.Context) error { <-release; return nil }},
		}
	})
	c := &http.Client{Timeout: 4 * gateway.ReadyTimeout}
	resp, err := c.Get(g.OpsURL + "/readyz")
	if err != nil {
		t.Fatalf("readyz with a hung check: %v", err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body.String(), `"store":"failed"`) ||
		!strings.Contains(body.String(), `"redis":"ok"`) {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body.String())
	}
}

// TestAssetCacheVerifiesContent: an image whose stored bytes do not hash to
// its name is refused (500 asset_corrupt) and not cached; once the right
// bytes are there it is served, cached, and served from the cache even if
// the stored object is damaged afterwards.
func TestAssetCacheVerifiesContent(t *testing.T) {
	e := gatewaytest.NewStoreEnv(t, "dir", 5*time.Second)
	logo := gatewaytest.PNGImage(t, color.RGBA{10, 20, 30, 255})
	sum := sha256.Sum256(logo)
	sha := hex.EncodeToString(sum[:])
	key, path := "assets/"+sha+".png", "/_livery/assets/"+sha+".png"
	ctx := context.Background()
	put := func(b []byte) {
		t.Helper()
		if _, err := objstore.PutBytes(ctx, e.Bounded, key, b, objstore.PutOptions{ContentType: "image/png"}); err != nil {
			t.Fatal(err)
		}
	}
	damaged := append([]byte(nil), logo...)
	damaged[len(damaged)/2] ^= 0xff
	put(damaged)
	for range 2 { // refused each time: nothing was cached
		if r := e.Asset(t, path); r.Status != http.StatusInternalServerError || r.ErrorCode(t) != "asset_corrupt" {
			t.Fatalf("damaged image: %d %s", r.Status, r.Body)
		}
	}
	put(logo)
	if r := e.Asset(t, path); r.Status != http.StatusOK || r.Body != string(logo) {
		t.Fatalf("repaired image: %d", r.Status)
	}
	put(damaged)
	if r := e.Asset(t, path); r.Status != http.StatusOK || r.Body != string(logo) {
		t.Fatalf("cached image after the stored one was damaged: %d", r.Status)
	}
	head := e.Send(t, gatewaytest.NewRequest(t, http.MethodHead, e.ConsoleURL+path, nil))
	if head.Status != http.StatusOK || head.Header.Get("Content-Length") != strconv.Itoa(len(logo)) || head.Body != "" {
		t.Fatalf("HEAD of a cached image: %d %v %q", head.Status, head.Header, head.Body)
	}
}
