package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/records"
)

// upstreamSaying is a console upstream whose pages say who it is.
func upstreamSaying(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "upstream %s: %s", name, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Two instances on one Redis and one MinIO bucket, nothing restarted: a
// tenant created on A signs a customer in on B within 1 s; its upstream
// changed on B is proxied to by A within 1 s; suspended on A, B refuses its
// console and its partner API within 1 s. The periodic refresh is an hour
// long, so only the change notices can have carried the changes.
func TestTwoInstancesFollowTenantChanges(t *testing.T) {
	ctx := context.Background()
	m := testenv.StartMinIO(t)
	provider, idpSrv, err := idp.NewTestServer(idp.Options{Users: []idp.User{{Subject: "user-1", Name: "Alice", Password: "pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idpSrv.Close)
	up1, up2 := upstreamSaying(t, "one"), upstreamSaying(t, "two")
	yaml := fmt.Sprintf(`store: {driver: s3, s3: {endpoint: %q, bucket: %q, access_key: %q}}
redis: {url: "redis://%s"}
sessions: {cookie_secure: false}
tenant_table: {refresh: 10m}
tenants: []
`, m.Endpoint, m.NewBucket(t), m.AccessKey, testenv.Redis(t))
	env := map[string]string{"LIVERY_STORE_S3_SECRET_KEY": m.SecretKey,
		"LIVERY_SECURITY_MASTER_KEY": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))}
	a, b := startAppYAML(t, yaml, env), startAppYAML(t, yaml, env)
	if err := provider.AddClient(idp.Client{ID: "nova-console", Secret: "nova-secret",
		RedirectURIs: []string{a.console + "/_livery/callback", b.console + "/_livery/callback"}}); err != nil {
		t.Fatal(err)
	}
	provider.SetAutoLogin("user-1")
	operator := authz.Subject{User: "olga", Roles: []string{authz.RoleOperator}}

	// Onboard on A: the record, the customer, an access key.
	secret := "nova-secret"
	start := time.Now()
	if _, err := a.app.svc.records.Create(ctx, records.Input{ID: "nova", Name: records.Names{ZH: "新星", EN: "Nova"},
		Hosts: []string{"127.0.0.1"}, Upstream: up1.URL, Provisioner: records.ProvisionerInput{Kind: records.ProvisionerBuiltin},
		SignIn: &records.SignInInput{Issuer: provider.Issuer(), ClientID: "nova-console", ClientSecret: &secret}}, operator); err != nil {
		t.Fatal(err)
	}
	if _, err := a.app.svc.customers.Create(ctx, "nova", tenants.Registration{XAccountID: "user-1", XAccountType: "nova",
		DomainName: "nova_customer", AssociationType: tenants.AssociationResale}, tenants.Meta{}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	took := testenv.Within(t, time.Second, "customer signs in on B", func() error {
		return page(browser, b.console+"/home", "upstream one: /home")
	})
	t.Logf("create on A → signed in on B after %s (onboarding included: %s)", took, time.Since(start).Round(time.Millisecond))

	// Change the upstream on B; A proxies to the new one.
	in := records.Input{ID: "nova", Name: records.Names{ZH: "新星", EN: "Nova"}, Hosts: []string{"127.0.0.1"}, Upstream: up2.URL,
		Provisioner: records.ProvisionerInput{Kind: records.ProvisionerBuiltin},
		SignIn:      &records.SignInInput{Issuer: provider.Issuer(), ClientID: "nova-console"}}
	if _, err := b.app.svc.records.Update(ctx, in, 1, operator); err != nil {
		t.Fatal(err)
	}
	took = testenv.Within(t, time.Second, "A proxies to the new upstream", func() error {
		return page(browser, a.console+"/home", "upstream two: /home")
	})
	t.Logf("upstream changed on B → A proxies to it after %s", took)

	// Suspend on A: B's console shows the suspended page, its partner API 403 CBC.0151.
	key, sk, err := a.app.Credentials().Create(ctx, "nova")
	if err != nil {
		t.Fatal(err)
	}
	sdk := sdkClient(t, b.api, key.AccessKey, sk)
	if _, err := sdk.CheckUserIdentity(checkIdentity("someone_new")); err != nil {
		t.Fatalf("partner API before suspension: %v", err)
	}
	if _, err := a.app.svc.records.Suspend(ctx, "nova", "contract ended", operator); err != nil {
		t.Fatal(err)
	}
	took = testenv.Within(t, time.Second, "B refuses the suspended console", func() error {
		return status(browser, b.console+"/home", http.StatusForbidden, "service is suspended")
	})
	t.Logf("suspended on A → B refuses the console after %s", took)
	_, err = sdk.CheckUserIdentity(checkIdentity("someone_new"))
	if se, ok := err.(*sdkerr.ServiceResponseError); !ok || se.StatusCode != 403 || se.ErrorCode != "CBC.0151" {
		t.Fatalf("partner API of a suspended partner = %v; want 403 CBC.0151", err)
	}
	if _, err := b.app.svc.records.Resume(ctx, "nova", operator); err != nil {
		t.Fatal(err)
	}
	testenv.Within(t, time.Second, "A serves the resumed console", func() error {
		return page(browser, a.console+"/home", "upstream two: /home")
	})
}

func page(c *http.Client, url, want string) error { return status(c, url, http.StatusOK, want) }

func status(c *http.Client, url string, code int, want string) error {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != code || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s = %d %.200q", url, resp.StatusCode, body)
	}
	return nil
}

func sdkClient(t *testing.T, endpoint, ak, sk string) *bss.BssClient {
	cred := global.NewCredentialsBuilder().WithAk(ak).WithSk(sk).Build()
	hc, err := bss.BssClientBuilder().WithEndpoints([]string{endpoint}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return bss.NewBssClient(hc)
}

func checkIdentity(name string) *model.CheckUserIdentityRequest {
	return &model.CheckUserIdentityRequest{Body: &model.CheckSubcustomerUserReq{SearchType: "name", SearchValue: name}}
}
