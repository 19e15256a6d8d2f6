package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/internal/testenv"
)

// asLivery, set in a child's environment, makes the test binary run as
// the livery command (TestMain): the multi-instance suite starts real
// `livery serve` processes without building another binary.
const asLivery = "LIVERYTEST_RUN_AS_LIVERY" // not LIVERY_*: that prefix is for settings

func TestMain(m *testing.M) {
	if os.Getenv(asLivery) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// instance is one `livery serve` process.
type instance struct {
	name              string
	console, api, ops string
	cmd               *exec.Cmd
	log               *strings.Builder
}

// startInstance runs `livery serve -config cfg` as a child process on
// free loopback ports and waits until /readyz answers 200.
func startInstance(t testing.TB, name, cfg string, env []string) *instance {
	t.Helper()
	port := func() string { return "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) }
	in := &instance{name: name, log: &strings.Builder{}}
	ca, aa, oa := port(), port(), port()
	in.console, in.api, in.ops = "http://"+ca, "http://"+aa, "http://"+oa
	in.cmd = exec.Command(os.Args[0], "serve", "-config", cfg)
	in.cmd.Env = append(append(os.Environ(), asLivery+"=1", "LIVERY_CONSOLE_ADDR="+ca, "LIVERY_API_ADDR="+aa,
		"LIVERY_OPS_ADDR="+oa, "LIVERY_SHUTDOWN_DRAIN_DELAY=0s", "LIVERY_LOG_LEVEL=warn"), env...)
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = in.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = in.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s", name, in.log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(in.ops + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become ready: %v\n%s", name, err, in.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get is a GET with headers, the status and body read.
func get(c *http.Client, url string, headers ...string) (int, string, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, "", err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// call is an admin API request with a bearer token.
func call(t testing.TB, method, url, token, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func partnerSDK(t *testing.T, endpoint, ak, sk string) *bss.BssClient {
	cred := global.NewCredentialsBuilder().WithAk(ak).WithSk(sk).Build()
	hc, err := bss.BssClientBuilder().WithEndpoints([]string{endpoint}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return bss.NewBssClient(hc)
}

// register creates a customer as the partner platform does for one of its
// end users, relaying the user's address (X-Client-Ip, signed by the SDK).
func register(sdk *bss.BssClient, account string) error {
	call := sdk.CreateSubCustomerInvoker(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{XaccountId: account, XaccountType: "acme"}})
	call.AddHeaders(map[string]string{"X-Client-Ip": "203.0.113.7"})
	_, err := call.Invoke()
	return err
}

// world is three `livery serve` processes (A, B, C) on one redis-server
// and one MinIO bucket, with the test IdP (customer user-1, operator olga,
// partner admin pat of tenant acme) and an HTML upstream.
type world struct {
	minio     testenv.MinIO
	bucket    string
	redis     *testenv.RedisServer
	provider  *idp.Provider
	a, b, c   *instance
	all       []*instance
	pat, olga string // staff bearer tokens
}

// startWorld builds the world; extra is appended to tenant acme's YAML
// (indented four spaces, e.g. "    risk: {per_address: off}\n"). With
// cluster set, the instances use that Redis Cluster instead of a
// redis-server of their own (world.redis is then nil).
func startWorld(t *testing.T, extra string, cluster *testenv.RedisCluster) *world {
	t.Helper()
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	var rs *testenv.RedisServer
	redisYAML := ""
	if cluster != nil {
		redisYAML = fmt.Sprintf("redis: {addrs: [%s]}", strings.Join(cluster.Addrs, ", "))
	} else {
		rs = testenv.StartRedis(t)
		redisYAML = fmt.Sprintf("redis: {url: \"redis://%s\"}", rs.Addr)
	}
	provider, idpSrv, err := idp.NewTestServer(idp.Options{Users: []idp.User{
		{Subject: "user-1", Name: "Alice", Password: "pw"},
		{Subject: "olga", Name: "Olga", Password: "pw", Claims: map[string]any{"groups": []string{"ops"}}},
		{Subject: "pat", Name: "Pat", Password: "pw", Claims: map[string]any{"groups": []string{"acme-admins"}, "partner": "acme"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idpSrv.Close)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>console</title></head><body><nav id=\"nav\">nav</nav><main>page %s</main></body></html>", r.URL.Path)
	}))
	t.Cleanup(upstream.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "livery.yaml")
	yaml := fmt.Sprintf(`store: {driver: s3, s3: {endpoint: %q, bucket: %q, access_key: %q}}
%s
sessions: {cookie_secure: false}
partner_api: {key_cache_ttl: 2s, create_rate: 100}
staff:
  oidc: {issuer: %q, client_id: livery-staff}
  public_url: "http://127.0.0.1"
  roles_claim: groups
  tenant_claim: partner
  role_map: {ops: operator, acme-admins: partner_admin}
tenants:
  - id: acme
    name: {zh: 阿克米, en: Acme}
    hosts: [127.0.0.1]
    upstream: %q
    oidc: {issuer: %q, client_id: acme-console}
%s`, m.Endpoint, bucket, m.AccessKey, redisYAML, provider.Issuer(), upstream.URL, provider.Issuer(), extra)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"LIVERY_STORE_S3_SECRET_KEY=" + m.SecretKey, "LIVERY_STAFF_OIDC_CLIENT_SECRET=staff-secret",
		"LIVERY_TENANTS_0_OIDC_CLIENT_SECRET=acme-secret",
		"LIVERY_SECURITY_MASTER_KEY=" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("m", 32)))}
	a := startInstance(t, "A", cfg, env)
	b := startInstance(t, "B", cfg, env)
	c := startInstance(t, "C", cfg, env)
	all := []*instance{a, b, c}
	var redirects, loggedOut []string
	for _, in := range all {
		redirects = append(redirects, in.console+"/_livery/callback")
		loggedOut = append(loggedOut, in.console+"/_livery/logged-out")
	}
	if err := provider.AddClient(idp.Client{ID: "acme-console", Secret: "acme-secret", RedirectURIs: redirects, PostLogoutRedirectURIs: loggedOut,
		BackchannelLogoutURI: a.console + "/_livery/backchannel-logout"}); err != nil {
		t.Fatal(err)
	}
	if err := provider.AddClient(idp.Client{ID: "livery-staff", Secret: "staff-secret", RedirectURIs: []string{a.api + "/admin/callback"}}); err != nil {
		t.Fatal(err)
	}
	pat, err := provider.MintIDToken("livery-staff", "pat", "", idp.DefectNone)
	if err != nil {
		t.Fatal(err)
	}
	olga, _ := provider.MintIDToken("livery-staff", "olga", "", idp.DefectNone)

	return &world{minio: m, bucket: bucket, redis: rs, provider: provider, a: a, b: b, c: c, all: all, pat: pat, olga: olga}
}

// TestThreeInstances: three `livery serve` processes on one Redis and one
// MinIO bucket share everything a customer, a partner platform and staff
// see. A session made on A is used on B and C; signing out on A ends it on
// B and C, and so does back-channel logout; the registrations-per-address
// limit counts across instances (the 11th is refused whichever instance
// gets it); a branding approval on A is live on B and C within 1 s; an
// access key revoked on A stops working on B within key_cache_ttl.
func TestThreeInstances(t *testing.T) {
	ctx := context.Background()
	w := startWorld(t, "", nil)
	a, b, c, all, provider, pat, olga := w.a, w.b, w.c, w.all, w.provider, w.pat, w.olga
	// A key (created on A), the customer registered through B.
	st, _, body := call(t, "POST", a.api+"/admin/v1/tenants/acme/keys", pat, "")
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("creating a key on A: %d %s", st, body)
	}
	ak, sk := jsonField(body, "access_key"), jsonField(body, "secret_key")
	if ak == "" || sk == "" {
		t.Fatalf("key answer: %s", body)
	}
	if err := register(partnerSDK(t, b.api, ak, sk), "user-1"); err != nil {
		t.Fatalf("registering on B: %v", err)
	}

	// A session made on A is used on B and C.
	provider.SetAutoLogin("user-1")
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if st, body, err := get(browser, a.console+"/home", "Accept", "text/html"); err != nil || st != 200 || !strings.Contains(body, "page /home") {
		t.Fatalf("sign-in on A: %d %v %.300s", st, err, body)
	}
	for _, in := range []*instance{b, c} {
		if st, _, err := get(browser, in.console+"/home", "Accept", "application/json"); err != nil || st != 200 {
			t.Fatalf("the session made on A, on %s: %d %v", in.name, st, err)
		}
	}
	// Signing out on A ends it on B and C.
	if st, _, err := get(browser, a.console+"/_livery/logout", "Accept", "text/html"); err != nil || st != 200 {
		t.Fatalf("logout on A: %d %v", st, err)
	}
	for _, in := range []*instance{b, c} {
		took := testenv.Within(t, time.Second, "logout on A ends the session on "+in.name, func() error {
			if st, _, err := get(browser, in.console+"/home", "Accept", "application/json"); err != nil || st != http.StatusUnauthorized {
				return fmt.Errorf("%d %v", st, err)
			}
			return nil
		})
		t.Logf("logout on A: refused on %s after %s", in.name, took)
	}
	// Back-channel logout (delivered to A) ends a new session everywhere.
	provider.SetAutoLogin("user-1")
	for _, in := range all { // a session on each, the cached copy warm
		if st, _, err := get(browser, in.console+"/home", "Accept", "text/html"); err != nil || st != 200 {
			t.Fatalf("sign-in again on %s: %d %v", in.name, st, err)
		}
	}
	if err := provider.SendBackchannelLogout(ctx, "acme-console", "user-1", ""); err != nil {
		t.Fatal(err)
	}
	for _, in := range all {
		took := testenv.Within(t, time.Second, "back-channel logout on "+in.name, func() error {
			if st, _, err := get(browser, in.console+"/home", "Accept", "application/json"); err != nil || st != http.StatusUnauthorized {
				return fmt.Errorf("%d %v", st, err)
			}
			return nil
		})
		t.Logf("back-channel logout: refused on %s after %s", in.name, took)
	}

	// Registrations per address (10 an hour) count across instances: one
	// registered above, nine more round-robin, the 11th refused on each.
	for i := range 9 {
		if err := register(partnerSDK(t, all[i%3].api, ak, sk), fmt.Sprintf("extra-%d", i)); err != nil {
			t.Fatalf("registration %d on %s: %v", i+2, all[i%3].name, err)
		}
	}
	for _, in := range all {
		err := register(partnerSDK(t, in.api, ak, sk), "one-too-many-"+in.name)
		var se *sdkerr.ServiceResponseError
		if !errors.As(err, &se) || se.StatusCode != http.StatusTooManyRequests || se.ErrorCode != "LIVERY.RISK.0001" {
			t.Fatalf("the 11th registration on %s = %v; want 429 LIVERY.RISK.0001 (per address)", in.name, err)
		}
	}

	// A branding approval on A is live on B and C within 1 s.
	st, hdr, body := call(t, "GET", a.api+"/admin/v1/tenants/acme/branding/draft", pat, "")
	if st != 200 {
		t.Fatalf("draft: %d %s", st, body)
	}
	draft := `{"brand":{"nav_color":"#123456"}}`
	if st, _, body := call(t, "PUT", a.api+"/admin/v1/tenants/acme/branding/draft", pat, draft, "If-Match", hdr.Get("ETag")); st != 200 {
		t.Fatalf("saving the draft on A: %d %s", st, body)
	}
	st, _, body = call(t, "POST", a.api+"/admin/v1/tenants/acme/branding/submit", pat, "")
	if st != http.StatusCreated {
		t.Fatalf("submit on A: %d %s", st, body)
	}
	if st, _, body := call(t, "POST", a.api+"/admin/v1/reviews/acme/approve", olga, `{"submission_id":"`+jsonField(body, "id")+`"}`); st != 200 {
		t.Fatalf("approve on A: %d %s", st, body)
	}
	provider.SetAutoLogin("user-1")
	for _, in := range []*instance{b, c} {
		took := testenv.Within(t, time.Second, "the approved branding on "+in.name, func() error {
			st, body, err := get(browser, in.console+"/home", "Accept", "text/html")
			if err != nil || st != 200 || !strings.Contains(body, "/_livery/branding/acme/1-") {
				return fmt.Errorf("%d %v (no version 1 stylesheet)", st, err)
			}
			return nil
		})
		t.Logf("branding approved on A: live on %s after %s", in.name, took)
	}

	// A key revoked on A stops working on B within key_cache_ttl (2 s).
	sdkB := partnerSDK(t, b.api, ak, sk)
	if _, err := sdkB.CheckUserIdentity(&model.CheckUserIdentityRequest{Body: &model.CheckSubcustomerUserReq{SearchType: "name", SearchValue: "nobody_here"}}); err != nil {
		t.Fatalf("the key on B before revocation: %v", err)
	}
	if st, _, body := call(t, "POST", a.api+"/admin/v1/tenants/acme/keys/"+ak+"/revoke", pat, ""); st != 200 {
		t.Fatalf("revoke on A: %d %s", st, body)
	}
	took := testenv.Within(t, 3*time.Second, "the revoked key refused on B", func() error {
		_, err := sdkB.CheckUserIdentity(&model.CheckUserIdentityRequest{Body: &model.CheckSubcustomerUserReq{SearchType: "name", SearchValue: "nobody_here"}})
		var se *sdkerr.ServiceResponseError
		if errors.As(err, &se) && se.StatusCode == http.StatusUnauthorized {
			return nil
		}
		return fmt.Errorf("still accepted: %v", err)
	})
	t.Logf("key revoked on A: refused on B after %s (key_cache_ttl 2s)", took)
}

// jsonField is the string value of the first "name":"value" in body.
func jsonField(body, name string) string {
	i := strings.Index(body, `"`+name+`":"`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(name)+4:]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return rest[:j]
}
