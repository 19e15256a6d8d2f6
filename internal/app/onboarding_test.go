package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/testenv"
)

// formPage is one HTML page of the staff UI fetched by a browser-like
// client (cookies, redirects followed).
type formPage struct {
	status int
	url    string
	body   string
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values, origin string) formPage {
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
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return formPage{status: resp.StatusCode, url: resp.Request.URL.String(), body: string(b)}
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([0-9a-f]+)"`)

func (p formPage) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("%s (%d) has no CSRF token: %.400s", p.url, p.status, p.body)
	}
	return m[1]
}

// onboardingEnv is one running gateway with staff sign-in and no tenant,
// an IdP with an operator (olga), a partner admin of the future tenant
// nova (pat) and a customer (user-1), and nova's future upstream.
type onboardingEnv struct {
	provider           *idp.Provider
	up                 *httptest.Server
	consoleURL, apiURL string
}

func startOnboarding(t *testing.T) onboardingEnv {
	t.Helper()
	provider, idpSrv, err := idp.NewTestServer(idp.Options{Users: []idp.User{
		{Subject: "olga", Name: "Olga", Password: "pw", Claims: map[string]any{"groups": []string{"ops"}}},
		{Subject: "pat", Name: "Pat", Password: "pw", Claims: map[string]any{"groups": []string{"nova-admins"}, "partner": "nova"}},
		{Subject: "user-1", Name: "Alice", Password: "pw"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idpSrv.Close)
	up := upstreamSaying(t, "nova")
	w := startStaffWorld(t, provider, "tenants: []\n", nil)
	return onboardingEnv{provider: provider, up: up, consoleURL: w.consoleURL, apiURL: w.apiURL}
}

// staffWorld is one running gateway (Redis, dir store) with staff sign-in
// at provider (client livery-staff; groups ops → operator, nova-admins →
// partner_admin of the claim partner).
type staffWorld struct {
	app                *App
	consoleURL, apiURL string
}

// startStaffWorld serves a gateway configured by the staff sign-in plus
// extra (YAML; {console} and {api} stand for the listeners' URLs) and env.
func startStaffWorld(t *testing.T, provider *idp.Provider, extra string, env map[string]string) staffWorld {
	t.Helper()
	var lns [3]net.Listener
	var err error
	for i := range lns {
		if lns[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	consoleURL, apiURL := "http://"+lns[0].Addr().String(), "http://"+lns[1].Addr().String()
	yaml := fmt.Sprintf(`store: {driver: dir, dir: {path: %q}}
redis: {url: "redis://%s"}
console: {addr: %q}
sessions: {cookie_secure: false}
tenant_table: {refresh: 10m}
staff:
  oidc: {issuer: %q, client_id: livery-staff}
  public_url: %q
  roles_claim: groups
  tenant_claim: partner
  role_map: {ops: operator, nova-admins: partner_admin}
`, filepath.Join(t.TempDir(), "data"), testenv.Redis(t), lns[0].Addr().String(), provider.Issuer(), apiURL) + strings.NewReplacer("{console}", consoleURL, "{api}", apiURL).Replace(extra)
	path := filepath.Join(t.TempDir(), "livery.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"LIVERY_STAFF_OIDC_CLIENT_SECRET": "staff-secret",
		"LIVERY_SECURITY_MASTER_KEY": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))}
	for k, v := range env {
		all[k] = v
	}
	cfg, err := config.Load(path, func(k string) (string, bool) { v, ok := all[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Build(ctx, cfg, slog.New(slog.DiscardHandler), Options{Listeners: &Listeners{Console: lns[0], API: lns[1], Ops: lns[2]}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	for _, c := range []idp.Client{
		{ID: "livery-staff", Secret: "staff-secret", RedirectURIs: []string{apiURL + "/admin/callback"}},
		{ID: "nova-console", Secret: "nova-secret", RedirectURIs: []string{consoleURL + "/_livery/callback"}},
	} {
		if err := provider.AddClient(c); err != nil {
			t.Fatal(err)
		}
	}
	return staffWorld{app: a, consoleURL: consoleURL, apiURL: apiURL}
}

// TestOnboardingThroughTheUI: on one running gateway, nothing restarted
// and no file touched, the operator onboards a partner in the staff web
// UI; the partner admin sets its sign-in provider and creates an access
// key there; the partner platform registers a customer with that key
// (the official SDK); the customer signs in on the new console host.
func TestOnboardingThroughTheUI(t *testing.T) {
	e := startOnboarding(t)
	provider, up, consoleURL, apiURL := e.provider, e.up, e.consoleURL, e.apiURL
	browser := func(user string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		provider.SetAutoLogin(user)
		if p := fetch(t, c, "GET", apiURL+"/ui/", nil, ""); p.status != 200 {
			t.Fatalf("%s signs in to the UI: %d %s %.300s", user, p.status, p.url, p.body)
		}
		return c
	}

	// The operator onboards Nova (no sign-in provider yet).
	op := browser("olga")
	tok := fetch(t, op, "GET", apiURL+"/ui/onboarding", nil, "").csrf(t)
	p := fetch(t, op, "POST", apiURL+"/ui/partners", url.Values{"_csrf": {tok}, "id": {"nova"}, "name_zh": {"新星"}, "name_en": {"Nova"},
		"hosts": {"127.0.0.1"}, "upstream": {up.URL}, "provisioner_kind": {"builtin"}}, apiURL)
	if p.status != 200 || !strings.HasSuffix(p.url, "/ui/partners/nova?done=done.partner_created") {
		t.Fatalf("onboarding: %d %s %.600s", p.status, p.url, p.body)
	}

	// The partner admin: the integration page (the live table knows Nova
	// within a second), the sign-in provider (tested, then saved), a key.
	pa := browser("pat")
	var ip formPage
	testenv.Within(t, time.Second, "the partner admin's integration page", func() error {
		ip = fetch(t, pa, "GET", apiURL+"/ui/t/nova/integration", nil, "")
		if ip.status != 200 {
			return fmt.Errorf("%d", ip.status)
		}
		return nil
	})
	signIn := url.Values{"_csrf": {ip.csrf(t)}, "version": {"1"}, "signin_issuer": {provider.Issuer()}, "signin_client_id": {"nova-console"},
		"signin_client_secret": {"nova-secret"}, "signin_scopes": {"openid profile"}}
	if p := fetch(t, pa, "POST", apiURL+"/ui/t/nova/integration/test", signIn, apiURL); p.status != 200 || !strings.Contains(p.body, "Test passed") {
		t.Fatalf("provider test: %d %.600s", p.status, p.body)
	}
	if p := fetch(t, pa, "POST", apiURL+"/ui/t/nova/integration", signIn, apiURL); p.status != 200 || !strings.Contains(p.url, "done=done.signin_saved") {
		t.Fatalf("provider save: %d %s %.600s", p.status, p.url, p.body)
	}
	keys := fetch(t, pa, "POST", apiURL+"/ui/t/nova/keys", url.Values{"_csrf": {ip.csrf(t)}}, apiURL)
	ak := regexp.MustCompile(`<code id="new-ak">([^<]+)</code>`).FindStringSubmatch(keys.body)
	sk := regexp.MustCompile(`<code id="new-sk">([^<]+)</code>`).FindStringSubmatch(keys.body)
	if ak == nil || sk == nil {
		t.Fatalf("new key: %d %.600s", keys.status, keys.body)
	}

	// The partner platform registers its customer with the key.
	sdk := sdkClient(t, apiURL, ak[1], sk[1])
	if _, err := sdk.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{XaccountId: "user-1", XaccountType: "nova"}}); err != nil {
		t.Fatalf("registering the customer: %v", err)
	}

	// The customer signs in on Nova's console and reaches its upstream.
	provider.SetAutoLogin("user-1")
	jar, _ := cookiejar.New(nil)
	customer := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	testenv.Within(t, time.Second, "the customer signs in on the new console", func() error {
		return page(customer, consoleURL+"/home", "upstream nova: /home")
	})
	// The integration page now counts the registration.
	if p := fetch(t, pa, "GET", apiURL+"/ui/t/nova/integration", nil, ""); !strings.Contains(p.body, "<code>create</code>") {
		t.Fatalf("request summary: %.800s", p.body)
	}
}
