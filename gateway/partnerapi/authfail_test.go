package partnerapi_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/tenants/ratelimit"
)

// metricValue reads one sample (name with its labels, as exposed) from the
// gateway's /metrics; a missing sample is 0.
func metricValue(t testing.TB, opsURL, sample string) float64 {
	t.Helper()
	resp, err := http.Get(opsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// TestPartnerAuthFailuresWriteNothing: failed signatures write nothing to
// the object store (counted before and after on MinIO); they are counted
// by reason; once an address spent its failure budget its next request is
// refused before the signature check with 429 APIGW.0308 and Retry-After,
// even a correctly signed one.
func TestPartnerAuthFailuresWriteNothing(t *testing.T) {
	const n = 8
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: true, AuthFailures: ratelimit.Limit{Rate: n, Burst: n, Period: time.Hour}})
	ctx := context.Background()
	objects := func() int {
		all, err := e.Store.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	before := objects()
	valid := `{"xaccount_id":"auth-1","xaccount_type":"pa_platform"}`
	garbage := []gatewaytest.RawCall{
		{SK: "wrong-secret"},
		{Tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Access=", "Access=ZZ", 1))
		}},
		{Tamper: func(r *http.Request) { r.Header.Set("Authorization", "SDK-HMAC-SHA256 garbage") }},
		{Tamper: func(r *http.Request) { r.Header.Del("Authorization") }},
		{Date: time.Now().Add(-time.Hour)},
	}
	for i := range n {
		rc := garbage[i%len(garbage)]
		rc.Tenant, rc.Path, rc.Body = "pa", "/v2/partners/sub-customers", valid
		if r, b := e.Do(t, rc); r.StatusCode != 401 || !strings.Contains(b, `"error_code":"CBC.0154"`) {
			t.Fatalf("garbage request %d: %d %s", i+1, r.StatusCode, b)
		}
	}
	if after := objects(); after != before {
		t.Fatalf("%d failed signatures wrote %d objects to the store", n, after-before)
	}
	// The budget is spent: refused unread, even with a valid signature.
	for _, rc := range []gatewaytest.RawCall{{SK: "wrong-secret"}, {}} {
		rc.Tenant, rc.Path, rc.Body = "pa", "/v2/partners/sub-customers", valid
		r, b := e.Do(t, rc)
		if r.StatusCode != 429 || !strings.Contains(b, `"error_code":"APIGW.0308"`) || r.Header.Get("Retry-After") == "" {
			t.Fatalf("request beyond the failure budget: %d %v %s", r.StatusCode, r.Header, b)
		}
	}
	if after := objects(); after != before {
		t.Fatalf("refused requests wrote %d objects", after-before)
	}
	total := 0.0
	for _, reason := range []string{"signature", "unknown_key", "malformed", "missing", "expired"} {
		v := metricValue(t, e.OpsURL, `livery_partner_auth_failures_total{reason="`+reason+`"}`)
		if v == 0 {
			t.Errorf("no failure counted for reason %s", reason)
		}
		total += v
	}
	if total != n {
		t.Errorf("counted %v failures, want %d", total, n)
	}
	if v := metricValue(t, e.OpsURL, `livery_partner_auth_failures_total{reason="rate_limited"}`); v != 2 {
		t.Errorf("rate_limited counted %v, want 2", v)
	}
}

// TestPartnerFailureBudgetPerForwardedClient: behind a trusted proxy the
// failure budget is the forwarded client's, not the proxy's: one client
// spending its budget does not lock out the others behind the same proxy.
func TestPartnerFailureBudgetPerForwardedClient(t *testing.T) {
	_, loop, _ := net.ParseCIDR("127.0.0.0/8")
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{TrustedProxies: []*net.IPNet{loop},
		AuthFailures: ratelimit.Limit{Rate: 2, Burst: 2, Period: time.Hour}})
	call := func(client string) int {
		rc := gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers", SK: "wrong-secret",
			Body: `{"xaccount_id":"x1","xaccount_type":"pa_platform"}`, Unsigned: map[string]string{"X-Forwarded-For": client}}
		r, _ := e.Do(t, rc)
		return r.StatusCode
	}
	for i := range 2 {
		if s := call("198.51.100.1"); s != 401 {
			t.Fatalf("failure %d of the first client: %d", i+1, s)
		}
	}
	if s := call("198.51.100.1"); s != 429 {
		t.Fatalf("first client beyond its budget: %d; want 429", s)
	}
	if s := call("198.51.100.2"); s != 401 {
		t.Fatalf("another client behind the same proxy: %d; want 401 (its own budget)", s)
	}
}
