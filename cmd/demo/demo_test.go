package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
)

// demo runs the demo in process on free ports and returns its output
// once the URLs are printed; the demo stops with the test.
func demo(t *testing.T, extra ...string) (out *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	data := t.TempDir()
	go func() {
		done <- run(ctx, append([]string{"-console", "127.0.0.1:0", "-api", "127.0.0.1:0", "-ops", "127.0.0.1:0", "-partner", "127.0.0.1:0", "-cloud", "127.0.0.1:0",
			"-data", data}, extra...), out, errb)
	}()
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "xaccount_type:"); {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("demo printed no URLs:\n%s\n%s", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("demo exited %d: %s", code, errb.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("demo did not stop")
		}
	}
	t.Cleanup(stop)
	return out, stop
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func printed(t *testing.T, out, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo output has no match for %s:\n%s", re, out)
	}
	return m[1]
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	hiddenRE   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// TestDemoJourney follows the whole demo: sign up on the partner platform
// (which calls the partner API with its AK/SK), go to the console, sign in
// at the partner's provider, and see the console through Livery with the
// verified identity; the printed partner key also works with the official
// SDK and the readiness probe reports both dependencies.
func TestDemoJourney(t *testing.T) {
	out, stop := demo(t)
	o := out.String()
	partnerURL := printed(t, o, `Sign up on the demo partner platform:\s+(http://\S+)/`)
	consoleURL := printed(t, o, `Console through Livery \(tenant "demo"\):\s+(http://localhost:\d+)/`)
	apiURL := printed(t, o, `(http://127\.0\.0\.1:\d+)/\.well-known/jwks\.json`)
	opsURL := printed(t, o, `(http://127\.0\.0\.1:\d+)/healthz`)
	if opsURL == apiURL {
		t.Fatalf("health on the API listener %s", apiURL)
	}

	// Anonymous console requests are sent to sign-in.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, _ := fetch(t, noFollow, "GET", consoleURL+"/billing", nil); resp.StatusCode != http.StatusFound ||
		!strings.HasPrefix(resp.Header.Get("Location"), "/_livery/login?rd=%2Fbilling") {
		t.Fatalf("anonymous console: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// 1. Sign up on the partner platform.
	resp, body := fetch(t, http.DefaultClient, "POST", partnerURL+"/signup",
		url.Values{"username": {"alice"}, "password": {"correct-horse"}, "account_name": {"alice_corp"}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "alice_corp") {
		t.Fatalf("sign-up: %d %s", resp.StatusCode, body)
	}
	// The same user name twice is refused and creates nothing.
	if resp, _ := fetch(t, http.DefaultClient, "POST", partnerURL+"/signup",
		url.Values{"username": {"alice"}, "password": {"another-one"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("duplicate sign-up: %d", resp.StatusCode)
	}

	// 2. Go to the console: Livery sends the browser to the partner's login page.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, body = fetch(t, browser, "GET", consoleURL+"/billing", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), partnerURL+"/idp/authorize") {
		t.Fatalf("expected the partner's login page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	form := url.Values{"username": {"alice"}, "password": {"correct-horse"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	action := formAction.FindStringSubmatch(body)
	if action == nil || form.Get("code_challenge_method") != "S256" || form.Get("nonce") == "" || form.Get("state") == "" {
		t.Fatalf("login form lacks PKCE/nonce/state: %v\n%s", form, body)
	}
	// 3. Sign in: back at the page first asked for, through Livery.
	resp, body = fetch(t, browser, "POST", html.UnescapeString(action[1]), form)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != consoleURL+"/billing" {
		t.Fatalf("after sign-in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	// The demo tenant's seeded branding (approved through the workflow) is
	// injected, with the partner logo served by Livery.
	logo := regexp.MustCompile(`src="(/_livery/assets/[0-9a-f]{64}\.png)"`).FindStringSubmatch(body)
	if !strings.Contains(body, `id="livery-chrome"`) || !strings.Contains(body, "Partner support") || logo == nil ||
		!strings.Contains(body, `src="/static/logo.svg"`) {
		t.Fatalf("console page not branded:\n%s", body)
	}
	if resp, img := fetch(t, browser, "GET", consoleURL+logo[1], nil); resp.StatusCode != 200 || !strings.HasPrefix(img, "\x89PNG") {
		t.Fatalf("logo: %d", resp.StatusCode)
	}
	// 3b. A customer who signs up in this browser goes to the console in
	// one jump: sign-up opened the IdP session (no second password).
	jar2, _ := cookiejar.New(nil)
	fresh := &http.Client{Jar: jar2, Timeout: 10 * time.Second}
	resp, body = fetch(t, fresh, "POST", partnerURL+"/signup", url.Values{"username": {"bob"}, "password": {"correct-horse-2"}})
	tm := regexp.MustCompile(`<form id="console-form" method="post" action="([^"]+)"><input type="hidden" name="ticket" value="([0-9a-f]+)">`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || tm == nil {
		t.Fatalf("sign-up without a console form: %d %s", resp.StatusCode, body)
	}
	resp, body = fetch(t, fresh, "POST", html.UnescapeString(tm[1]), url.Values{"ticket": {tm[2]}})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), consoleURL+"/") || !strings.Contains(body, `id="livery-chrome"`) {
		t.Fatalf("go to console after sign-up: %d at %s (a login form means a second password prompt)\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	// 4. The console verified the identity assertion Livery signed.
	resp, body = fetch(t, browser, "GET", consoleURL+"/whoami", nil)
	var who struct {
		Verified                   bool
		User, Tenant, Account_Name string
	}
	if err := json.Unmarshal([]byte(body), &who); err != nil || resp.StatusCode != 200 {
		t.Fatalf("whoami: %d %s", resp.StatusCode, body)
	}
	if !who.Verified || who.User != "alice" || who.Tenant != "demo" || who.Account_Name != "alice_corp" {
		t.Fatalf("whoami: %s", body)
	}
	// Identity headers sent by the browser never reach the console.
	req, _ := http.NewRequest("GET", consoleURL+"/headers?format=json", nil)
	req.Header.Set("X-Livery-User", "mallory")
	r2, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if strings.Contains(string(b2), "mallory") || !strings.Contains(string(b2), "X-Livery-Assertion") {
		t.Fatalf("headers seen by the console: %s", b2)
	}

	if resp, body := fetch(t, http.DefaultClient, "GET", opsURL+"/readyz", nil); resp.StatusCode != 200 ||
		!strings.Contains(body, `"redis":"ok"`) || !strings.Contains(body, `"store":"ok"`) {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}

	// The printed partner key works with the official SDK.
	cred := global.NewCredentialsBuilder().WithAk(printed(t, o, `access key \(AK\):\s+(\S+)`)).
		WithSk(printed(t, o, `secret key \(SK\):\s+(\S+)`)).Build()
	hc, err := bss.BssClientBuilder().WithEndpoints([]string{apiURL}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	name := "demo_customer"
	created, err := bss.NewBssClient(hc).CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
		XaccountId: "demo-user-1", XaccountType: "demo", DomainName: &name}})
	if err != nil || *created.DomainName != name || len(*created.DomainId) != 32 {
		t.Fatalf("create customer through the demo: %+v %v", created, err)
	}
	stop()
}
