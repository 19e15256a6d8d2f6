package gatewaytest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/livery/livery/branding/live"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants"
	"github.com/redis/go-redis/v9"
)

// BrandEnv is a staffEnv whose gateway also runs branding: the workflow on
// a directory store, the live cache on the env's Redis, the chrome
// provider, assets and preview.
type BrandEnv struct {
	*StaffEnv
	wf    *workflow.Service
	Live  *live.Cache
	Store objstore.Store
}

// NewBrandEnv starts a BrandEnv in front of the Recorder, with the default
// chrome upstream configuration.
func NewBrandEnv(t testing.TB) *BrandEnv { return NewBrandEnvOn(t, nil, render.DefaultUpstream()) }

// NewBrandEnvOn is newBrandEnv with up as the chrome's upstream
// configuration and, when upstream is set, every tenant's console there
// instead of the JSON recorder. Each extra adjusts the gateway options
// after the branding ones.
func NewBrandEnvOn(t testing.TB, upstream *url.URL, up render.Upstream, extra ...func(e *StaffEnv, o *gateway.Options)) *BrandEnv {
	t.Helper()
	b := &BrandEnv{}
	store, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b.Store = store
	quiet := slog.New(slog.DiscardHandler)
	b.StaffEnv = NewStaffEnv(t, func(e *StaffEnv, o *gateway.Options) {
		if upstream != nil {
			var list []tenants.Tenant
			for _, tn := range e.reg.All() {
				c := *tn
				c.Upstream = upstream
				list = append(list, c)
			}
			reg, err := tenants.NewRegistry(list)
			if err != nil {
				t.Fatal(err)
			}
			e.reg, o.Tenants = reg, reg // preview resolves tenants through e.reg
		}
		chrome := b.startBranding(t, store, e.RDB, up)
		o.Admin.Upstream = up // the web UI's previews render as the console does
		consoleURL := e.ConsoleURL
		o.Branding = &gateway.BrandingOptions{
			Chrome:   chrome,
			Assets:   branded.WorkflowAssets{Images: b.wf, Chrome: chrome},
			Workflow: b.wf,
			Preview: &preview.Options{Redis: e.RDB, Sessions: e.Sessions, Docs: preview.FromWorkflow{W: b.wf}, Audit: b.wf, Logger: quiet,
				Tenants: e.reg, ConsoleURL: func(t *tenants.Tenant) string {
					if t.ID == "acme" {
						return consoleURL
					}
					return "http://" + t.Hosts[0]
				}},
		}
		for _, fn := range extra {
			fn(e, o)
		}
	})
	return b
}

// PNGImage is a small real PNG of the given colour.
func PNGImage(t testing.TB, c color.Color) []byte { return PNGOf(t, 24, 12, c) }

// PNGOf is a real w×h PNG of one colour.
func PNGOf(t testing.TB, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Upload posts data as the multipart field "file".
func (e *BrandEnv) Upload(t testing.TB, tenant, token string, data []byte) Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "logo.png")
	fw.Write(data)
	mw.Close()
	return e.API(t, http.MethodPost, "/admin/v1/tenants/"+tenant+"/branding/images", token, body.String(),
		"Content-Type", mw.FormDataContentType())
}

// Page fetches an HTML console page with c (nil: no cookies) on host.
func (e *BrandEnv) Page(t testing.TB, c *http.Client, path string, headers ...string) (int, string, http.Header) {
	t.Helper()
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	req := NewRequest(t, http.MethodGet, e.ConsoleURL+path, nil, append([]string{"Accept", "text/html"}, headers...)...)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// startBranding builds the branding workflow on store and its live cache
// on rdb (running until the test ends, subscribed before it returns), and
// returns the chrome rendered from it with up.
func (b *BrandEnv) startBranding(t testing.TB, store objstore.Store, rdb redis.UniversalClient, up render.Upstream) *branded.Chrome {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	opts := workflow.Options{Logger: quiet}
	b.Live = live.New(workflow.New(store, opts), rdb, live.Options{Logger: quiet})
	opts.Notifier = b.Live
	b.wf = workflow.New(store, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = b.Live.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-b.Live.Subscribed():
	case <-time.After(5 * time.Second):
		t.Fatal("live cache did not subscribe")
	}
	return branded.NewChrome(b.Live, up)
}
