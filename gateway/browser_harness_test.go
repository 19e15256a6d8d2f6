package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/livery/livery/branding/render"
	democonsole "github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/gateway/gatewaytest"
)

// browserUpstream is the chrome's upstream configuration in the browser
// tests: the demo console's selectors, and its own logo (served by the
// console, same origin through Livery) as the cloud logo so that a real
// image loads beside the partner's.
func browserUpstream(t testing.TB) render.Upstream {
	up := render.DefaultUpstream()
	up.CloudLogo.URLZH, up.CloudLogo.URLEN = democonsole.LogoPath, democonsole.LogoPath
	if err := render.ValidateUpstream(up); err != nil {
		t.Fatal(err)
	}
	return up
}

// newBrowserEnv is newBrandEnv in front of the real demo console (which
// sends a nonce-based CSP on its pages) instead of the JSON recorder, with
// browserUpstream as the chrome's upstream configuration.
func newBrowserEnv(t *testing.T) *gatewaytest.BrandEnv {
	t.Helper()
	srv := httptest.NewServer(democonsole.New(democonsole.Options{Name: "Demo Cloud", Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	upstream, _ := url.Parse(srv.URL)
	return gatewaytest.NewBrandEnvOn(t, upstream, browserUpstream(t))
}

// chromiumPath finds the browser: $LIVERY_CHROMIUM, else chromium,
// chromium-browser or google-chrome on PATH. Without one the test fails:
// a browser test that skips silently proves nothing.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LIVERY_CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("LIVERY_CHROMIUM=%q is not an executable: %v", p, err)
		}
		return path
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatal("the browser tests need Chromium, and none was found (LIVERY_CHROMIUM is unset; no chromium, chromium-browser or google-chrome on PATH). " +
		"Run ./scripts/test.sh, which installs it (Debian package chromium), or set LIVERY_CHROMIUM to a Chrome/Chromium binary.")
	return ""
}

// startBrowser starts headless Chromium; the whole browser session is
// bounded by limit (the browser is killed when it ends) and closed at
// cleanup. The returned context has the browser; open tabs with newBrowserTab.
func startBrowser(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	path := chromiumPath(t)
	var out browserOutput
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(&out),
	)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		bcancel()
		acancel()
		cancel()
	})
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v\n%s", path, err, out.String())
	}
	return bctx
}

// browserOutput collects the browser's output for error messages.
type browserOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *browserOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *browserOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// browserTab is a page in its own browser context (its own cookie jar). It
// records Content-Security-Policy violations two ways: a script that runs
// first in every document listens for securitypolicyviolation events, and
// the browser's log entries that name the policy are collected.
type browserTab struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu  sync.Mutex
	log []string // CSP messages of the browser log
}

// browserStepTimeout bounds every browser action of the tests.
const browserStepTimeout = 10 * time.Second

// browserCSPRecorder runs before any script of every document.
const browserCSPRecorder = `window.__liveryCSP = [];
window.addEventListener("securitypolicyviolation", function (e) {
  window.__liveryCSP.push(e.effectiveDirective + " blocked " + (e.blockedURI || "?") + (e.sample ? " (" + e.sample + ")" : ""));
}, true);`

func newBrowserTab(t *testing.T, browser context.Context, name string) *browserTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the browserTab, without a step timeout
		t.Fatalf("%s: opening a browserTab: %v", name, err)
	}
	b := &browserTab{t: t, name: name, ctx: ctx}
	entries := chromedp.Events(ctx, cdplog.EntryAdded)
	go func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			if strings.Contains(ev.Entry.Text, "Content Security Policy") {
				b.mu.Lock()
				b.log = append(b.log, ev.Entry.Text)
				b.mu.Unlock()
			}
		}
	}()
	sctx, scancel := b.step()
	defer scancel()
	if _, err := chromedp.Call(sctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: browserCSPRecorder}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func (b *browserTab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, browserStepTimeout)
}

// cspLog returns the CSP messages of the browser log since the last open.
func (b *browserTab) cspLog() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.log...)
}

// open navigates to u, waits for the load event (images included) and
// returns the response of the final document. It forgets the CSP messages
// of the previous page.
func (b *browserTab) open(u string) *network.Response {
	b.t.Helper()
	b.mu.Lock()
	b.log = nil
	b.mu.Unlock()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("%s: opening %s: %v", b.name, u, err)
	}
	return resp
}

// acceptLanguage sets the Accept-Language header of the browserTab's requests.
func (b *browserTab) acceptLanguage(v string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": v}}); err != nil {
		b.t.Fatalf("%s: %v", b.name, err)
	}
}

// setCookie sets a cookie for the origin of u in the browserTab's browser context.
func (b *browserTab) setCookie(u, name, value string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: u, Path: "/"}); err != nil {
		b.t.Fatalf("%s: %v", b.name, err)
	}
}

// evalJS evaluates a JavaScript expression in the browserTab and decodes its value.
func evalJS[T any](b *browserTab, expr string) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluating %.80q: %v", b.name, expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is truthy (false after
// the timeout).
func (b *browserTab) waitFor(expr string, timeout time.Duration) bool {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout)))
	if err != nil && !errors.Is(err, chromedp.ErrPollingTimeout) {
		b.t.Fatalf("%s: polling %q: %v", b.name, expr, err)
	}
	return err == nil
}

// respHeader returns a response header (CDP header names keep their case).
func respHeader(resp *network.Response, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// respInfo is the part of a document response the checks use.
type respInfo struct {
	status int
	csp    string
}

func info(resp *network.Response) respInfo {
	if resp == nil {
		return respInfo{}
	}
	return respInfo{status: int(resp.Status), csp: respHeader(resp, "Content-Security-Policy")}
}

// pngWidth is the width of a PNG image.
func pngWidth(t testing.TB, data []byte) int {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Width
}
