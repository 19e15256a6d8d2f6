package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/internal/testenv"
)

// BenchmarkTenantsAtScale is the fan-out figure of docs/performance.md
// section 5: LIVERY_SCALE_TENANTS tenants (default 1000), each with an
// approved branding, on three real `livery serve` processes (A, B, C) on
// one Redis and one MinIO bucket. It reports
//
//   - startup_s: how long instance C, restarted once every tenant has an
//     approved branding, takes from exec to /readyz 200;
//   - first_page_store_ops: object-store operations C makes for its
//     first branded page of one tenant (a full scan would be >= the
//     number of tenants);
//   - approval_p50_ms, approval_p99_ms, approval_max_ms: from an approval's
//     200 on A until the new version's chrome is served by each of A, B
//     and C, over LIVERY_SCALE_APPROVALS approvals (default 50) of
//     different tenants.
//
// One iteration is the whole run (minutes): run it with -benchtime 1x.
//
//	go test -run '^$' -bench TenantsAtScale -benchtime 1x ./cmd/livery
func BenchmarkTenantsAtScale(b *testing.B) {
	n := envInt("LIVERY_SCALE_TENANTS", 1000)
	samples := envInt("LIVERY_SCALE_APPROVALS", 50)
	for range b.N {
		runScale(b, n, samples)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func scaleTenant(i int) string { return fmt.Sprintf("t%04d", i) }

func runScale(b *testing.B, n, samples int) {
	m := testenv.StartMinIO(b)
	bucket := m.NewBucket(b)
	rs := testenv.StartRedis(b)
	provider, idpSrv, err := idp.NewTestServer(idp.Options{Users: []idp.User{
		{Subject: "olga", Name: "Olga", Password: "pw", Claims: map[string]any{"groups": []string{"ops"}}},
		{Subject: "oscar", Name: "Oscar", Password: "pw", Claims: map[string]any{"groups": []string{"ops"}}},
	}, IDTokenTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(idpSrv.Close)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>console</title></head><body><main>page %s</main></body></html>", r.URL.Path)
	}))
	b.Cleanup(upstream.Close)
	var ts strings.Builder
	for i := range n {
		id := scaleTenant(i)
		fmt.Fprintf(&ts, "  - id: %s\n    name: {zh: 租户%d, en: Tenant %d}\n    hosts: [%s.scale.test]\n    upstream: %q\n", id, i, i, id, upstream.URL)
	}
	cfg := filepath.Join(b.TempDir(), "livery.yaml")
	yaml := fmt.Sprintf(`store: {driver: s3, s3: {endpoint: %q, bucket: %q, access_key: %q}}
redis: {url: "redis://%s"}
sessions: {cookie_secure: false}
staff:
  oidc: {issuer: %q, client_id: livery-staff}
  public_url: "http://127.0.0.1"
  roles_claim: groups
  role_map: {ops: operator}
tenants:
%s`, m.Endpoint, bucket, m.AccessKey, rs.Addr, provider.Issuer(), ts.String())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	env := []string{"LIVERY_STORE_S3_SECRET_KEY=" + m.SecretKey, "LIVERY_STAFF_OIDC_CLIENT_SECRET=staff-secret",
		"LIVERY_SECURITY_MASTER_KEY=" + "bW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW0="}
	if err := provider.AddClient(idp.Client{ID: "livery-staff", Secret: "staff-secret", RedirectURIs: []string{"http://127.0.0.1/admin/callback"}}); err != nil {
		b.Fatal(err)
	}
	olga, _ := provider.MintIDToken("livery-staff", "olga", "", idp.DefectNone)
	oscar, _ := provider.MintIDToken("livery-staff", "oscar", "", idp.DefectNone)

	t0 := time.Now()
	a := startInstance(b, "A", cfg, env)
	b.Logf("A ready after %s (first start: seeds %d tenant records)", time.Since(t0).Round(time.Millisecond), n)
	bi := startInstance(b, "B", cfg, env)
	c := startInstance(b, "C", cfg, env)

	// Every tenant gets an approved branding (version 1), 8 at a time.
	t0 = time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			approveScale(b, a.api, scaleTenant(i), olga, oscar, "#1"+fmt.Sprintf("%05d", i))
		}()
	}
	wg.Wait()
	b.Logf("%d brandings approved through A in %s", n, time.Since(t0).Round(time.Millisecond))

	// C restarts with every tenant branded.
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	_ = c.cmd.Wait()
	t0 = time.Now()
	c = startInstance(b, "C", cfg, env)
	startup := time.Since(t0)
	probe := scaleTenant(n / 2)
	before := storeOps(b, c.ops)
	if st, body, err := getHost(c.console+"/", probe+".scale.test"); err != nil || st != 200 ||
		!strings.Contains(body, "/_livery/branding/"+probe+"/1-") {
		b.Fatalf("C's first page of %s: %d %v (branded: %v)", probe, st, err, strings.Contains(body, "/_livery/branding/"))
	}
	firstOps := storeOps(b, c.ops) - before
	b.Logf("C restarted: ready after %s; its first page of %s took %d object-store operations", startup.Round(time.Millisecond), probe, firstOps)

	// Approvals of other tenants (version 2), timed until live on A, B and C.
	var took []time.Duration
	type sample struct {
		d              time.Duration
		k              int
		tenant, onName string
	}
	var all []sample
	for k := range samples {
		tenant := scaleTenant((k*7919 + 1) % n)
		approveScale(b, a.api, tenant, olga, oscar, "#2"+fmt.Sprintf("%05d", k))
		done := time.Now()
		var mu sync.Mutex
		var iwg sync.WaitGroup
		var failed []string
		for _, in := range []*instance{a, bi, c} {
			iwg.Add(1)
			go func() { // polls every 5 ms for up to 5 s
				defer iwg.Done()
				for {
					st, body, err := getHost(in.console+"/", tenant+".scale.test")
					if err == nil && st == 200 && strings.Contains(body, "/_livery/branding/"+tenant+"/2-") {
						d := time.Since(done)
						mu.Lock()
						took = append(took, d)
						all = append(all, sample{d, k, tenant, in.name})
						mu.Unlock()
						return
					}
					if time.Since(done) > 5*time.Second {
						mu.Lock()
						failed = append(failed, fmt.Sprintf("%s on %s: %d %v", tenant, in.name, st, err))
						mu.Unlock()
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
		iwg.Wait()
		if len(failed) > 0 {
			b.Fatalf("version 2 not live within 5 s: %v", failed)
		}
	}
	slices.Sort(took)
	slices.SortFunc(all, func(x, y sample) int { return int(y.d - x.d) })
	for _, sl := range all[:min(3, len(all))] {
		b.Logf("slowest: approval %d (%s) live on %s after %s", sl.k, sl.tenant, sl.onName, sl.d)
	}
	pct := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	b.Logf("%d approvals x 3 instances: p50 %s, p99 %s, max %s", samples, pct(0.5), pct(0.99), took[len(took)-1])
	b.ReportMetric(startup.Seconds(), "startup_s")
	b.ReportMetric(float64(firstOps), "first_page_store_ops")
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "approval_p50_ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "approval_p99_ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "approval_max_ms")
}

// approveScale saves a draft with the navigation colour (olga), submits it
// (olga) and approves it (oscar: maker and checker differ) on api.
func approveScale(b *testing.B, api, tenant, maker, checker, color string) {
	base := api + "/admin/v1/tenants/" + tenant + "/branding"
	st, hdr, body := call(b, "GET", base+"/draft", maker, "")
	if st != 200 {
		b.Fatalf("%s draft: %d %s", tenant, st, body)
	}
	var h []string
	if e := hdr.Get("ETag"); e != "" {
		h = []string{"If-Match", e}
	}
	if st, _, body := call(b, "PUT", base+"/draft", maker, `{"brand":{"nav_color":"`+color[:7]+`"}}`, h...); st != 200 {
		b.Fatalf("%s save draft: %d %s", tenant, st, body)
	}
	st, _, body = call(b, "POST", base+"/submit", maker, "")
	if st != http.StatusCreated {
		b.Fatalf("%s submit: %d %s", tenant, st, body)
	}
	if st, _, body := call(b, "POST", api+"/admin/v1/reviews/"+tenant+"/approve", checker, `{"submission_id":"`+jsonField(body, "id")+`"}`); st != 200 {
		b.Fatalf("%s approve: %d %s", tenant, st, body)
	}
}

// storeOps is the number of object-store operations the instance counted
// (livery_store_operation_duration_seconds_count, every operation).
func storeOps(b *testing.B, ops string) int {
	st, body, err := get(http.DefaultClient, ops+"/metrics")
	if err != nil || st != 200 {
		b.Fatalf("metrics: %d %v", st, err)
	}
	total := 0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "livery_store_operation_duration_seconds_count") {
			f := strings.Fields(line)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				total += int(v)
			}
		}
	}
	return total
}

// getHost GETs url (an HTML page) with the Host header host.
func getHost(url, host string) (int, string, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}
