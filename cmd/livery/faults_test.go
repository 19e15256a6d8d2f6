//go:build faults

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	"github.com/minio/minio-go/v7"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
)

// The fault suite (bench/faults.sh; not in the README test command): the
// three-instance world under a steady load of registrations (partner API,
// round-robin over the instances) and branded page views of a signed-in
// customer, through one fault after another. For each: registrations
// acknowledged vs. customers in the store (lost = acknowledged but not
// stored), calls refused with a clear retryable answer (429/503 with a
// code) vs. failures without one (a broken connection, a 5xx without a
// code), how long until A's /readyz said so and until registrations
// succeeded again, and whether the pages served kept the approved branding.

// outcome counts one phase's load.
type outcome struct {
	attempts, acked, clear, unclear atomic.Int64
	pages, branded, pageErrs        atomic.Int64
	firstFail, lastFail             atomic.Int64 // unix ns
	mu                              sync.Mutex
	ackedIDs                        []string
	examples                        map[string]int
}

func (o *outcome) fail(kind string) {
	now := time.Now().UnixNano()
	o.firstFail.CompareAndSwap(0, now)
	o.lastFail.Store(now)
	o.mu.Lock()
	if o.examples == nil {
		o.examples = map[string]int{}
	}
	o.examples[kind]++
	o.mu.Unlock()
}

// load runs registrations and page views until stop is closed.
func load(t *testing.T, w *world, ak, sk string, browser *http.Client, o *outcome, stop <-chan struct{}, seq *atomic.Int64) *sync.WaitGroup {
	var wg sync.WaitGroup
	for g := range 3 { // three platform workers
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				in := w.all[(g+i)%3]
				n := seq.Add(1)
				id := fmt.Sprintf("load-%06d", n)
				sdk := partnerSDK(t, in.api, ak, sk)
				call := sdk.CreateSubCustomerInvoker(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{XaccountId: id, XaccountType: "acme"}})
				call.AddHeaders(map[string]string{"X-Client-Ip": fmt.Sprintf("198.51.%d.%d", n/250%250, n%250+1)})
				o.attempts.Add(1)
				_, err := call.Invoke()
				var se *sdkerr.ServiceResponseError
				switch {
				case err == nil:
					o.acked.Add(1)
					o.mu.Lock()
					o.ackedIDs = append(o.ackedIDs, id)
					o.mu.Unlock()
				case errors.As(err, &se) && (se.StatusCode == 503 || se.StatusCode == 429) && se.ErrorCode != "":
					o.clear.Add(1)
					o.fail(fmt.Sprintf("%d %s", se.StatusCode, se.ErrorCode))
				default:
					o.unclear.Add(1)
					kind := "network"
					if errors.As(err, &se) {
						kind = fmt.Sprintf("%d %s", se.StatusCode, se.ErrorCode)
					}
					o.fail(kind)
				}
				time.Sleep(30 * time.Millisecond)
			}
		})
	}
	wg.Go(func() { // the customer's page views
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			in := w.all[i%3]
			st, body, err := get(browser, in.console+"/home", "Accept", "text/html")
			o.pages.Add(1)
			switch {
			case err != nil || st != 200:
				o.pageErrs.Add(1)
			case strings.Contains(body, "/_livery/branding/acme/1-"):
				o.branded.Add(1)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return &wg
}

type phase struct {
	name   string
	inject func(t *testing.T, w *world) // the fault; returns when it is in place
	heal   func(t *testing.T, w *world) // nil: nothing to undo
	hold   time.Duration                // how long the fault lasts
}

type row struct {
	name                          string
	attempts, acked, lost, stored int64
	clear, unclear                int64
	readyz, back                  string
	pages, branded, pageErrs      int64
	failures                      string
}

// prepared is a world ready for load: a key, the customer registered, a
// branding version approved, the customer's browser.
type prepared struct {
	*world
	ak, sk  string
	browser *http.Client
}

func prepare(t *testing.T, w *world) prepared {
	t.Helper()
	st, _, body := call(t, "POST", w.a.api+"/admin/v1/tenants/acme/keys", w.pat, "")
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("key: %d %s", st, body)
	}
	ak, sk := jsonField(body, "access_key"), jsonField(body, "secret_key")
	if err := register(partnerSDK(t, w.a.api, ak, sk), "user-1"); err != nil {
		t.Fatal(err)
	}
	approveBranding(t, w)
	w.provider.SetAutoLogin("user-1")
	jar, _ := cookiejar.New(nil)
	return prepared{world: w, ak: ak, sk: sk, browser: &http.Client{Jar: jar, Timeout: 5 * time.Second}}
}

const noRisk = "    risk: {per_device: \"off\", per_address: \"off\", per_partner: \"off\"}\n"

func TestFaults(t *testing.T) {
	ctx := context.Background()
	p := prepare(t, startWorld(t, noRisk, nil))
	w := p.world
	rdb := redis.NewClient(&redis.Options{Addr: w.redis.Addr})
	defer rdb.Close()
	phases := []phase{
		{name: "1. FLUSHALL Redis", inject: func(t *testing.T, w *world) { rdb.FlushAll(ctx) }},
		{name: "2. Redis killed, restarted after 5 s", inject: func(t *testing.T, w *world) { w.redis.Stop() },
			heal: func(t *testing.T, w *world) { w.redis.Start() }, hold: 5 * time.Second},
		{name: "3. MinIO killed, restarted after 5 s", inject: func(t *testing.T, w *world) { w.minio.Stop() },
			heal: func(t *testing.T, w *world) { w.minio.Restart(t) }, hold: 5 * time.Second},
		{name: "4. MinIO frozen (SIGSTOP) 10 s", inject: func(t *testing.T, w *world) { w.minio.Freeze(t) },
			heal: func(t *testing.T, w *world) { w.minio.Thaw(t) }, hold: 10 * time.Second},
		{name: "5. instance C killed (SIGKILL) mid-load", inject: func(t *testing.T, w *world) {
			_ = w.c.cmd.Process.Signal(syscall.SIGKILL)
		}},
	}
	var seq atomic.Int64
	rows := runPhases(t, p, phases, &seq)

	// 6. A Redis Cluster master dies; its replica takes over.
	cl := testenv.StartRedisCluster(t, 3)
	cl.AddReplicas(t)
	pc := prepare(t, startWorld(t, noRisk, cl))
	rows = append(rows, runPhases(t, pc, []phase{{name: "6. Redis Cluster: a master killed (its replica takes over)",
		inject: func(t *testing.T, w *world) { cl.Nodes[0].Stop() }, hold: 6 * time.Second}}, &seq)...)

	table := renderTable(rows)
	t.Log("\n" + table)
	if out := os.Getenv("LIVERY_FAULTS_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runPhases runs each phase under load and returns its row.
func runPhases(t *testing.T, pr prepared, phases []phase, seq *atomic.Int64) []row {
	w, ak, sk, browser := pr.world, pr.ak, pr.sk, pr.browser
	var rows []row
	for _, p := range phases {
		o := &outcome{}
		stop := make(chan struct{})
		wg := load(t, w, ak, sk, browser, o, stop, seq)
		time.Sleep(2 * time.Second) // steady state first
		faultAt := time.Now()
		readyz := make(chan time.Duration, 1)
		go func() { // how long until A's /readyz says it
			for time.Since(faultAt) < p.hold+5*time.Second {
				resp, err := http.Get(w.a.ops + "/readyz")
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					readyz <- time.Since(faultAt)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			readyz <- -1
		}()
		p.inject(t, w)
		time.Sleep(p.hold)
		healedAt := time.Now()
		if p.heal != nil {
			p.heal(t, w)
		}
		// Back: the first acknowledged registration after the heal.
		ackedAtHeal := o.acked.Load()
		back := "—"
		for d := time.Duration(0); d < 30*time.Second; d += 20 * time.Millisecond {
			if o.acked.Load() > ackedAtHeal+3 {
				back = time.Since(healedAt).Round(10 * time.Millisecond).String()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(2 * time.Second)
		close(stop)
		wg.Wait()
		if p.name[0] == '5' { // the survivors carry on; C stays down
			w.all = []*instance{w.a, w.b}
		}
		r := row{name: p.name, attempts: o.attempts.Load(), acked: o.acked.Load(), clear: o.clear.Load(), unclear: o.unclear.Load(),
			pages: o.pages.Load(), branded: o.branded.Load(), pageErrs: o.pageErrs.Load(), back: back}
		switch d := <-readyz; {
		case d < 0:
			r.readyz = "not seen"
		default:
			r.readyz = d.Round(10 * time.Millisecond).String()
		}
		var kinds []string
		for k, n := range o.examples {
			kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
		}
		r.failures = strings.Join(kinds, ", ")
		r.lost, r.stored = checkStored(t, w, o.ackedIDs)
		rows = append(rows, r)
		t.Logf("%s: %+v", p.name, r)
		if r.lost != 0 {
			t.Errorf("%s: %d acknowledged registrations are not in the store", p.name, r.lost)
		}
	}
	return rows
}

// checkStored looks every acknowledged registration up in the bucket.
func checkStored(t *testing.T, w *world, ids []string) (lost, stored int64) {
	mc := w.minio.Client(t)
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := mc.StatObject(ctx, w.bucket, tenants.CustomerKey("acme", "acme", id), minio.StatObjectOptions{})
		cancel()
		if err != nil {
			lost++
		} else {
			stored++
		}
	}
	return lost, stored
}

// approveBranding saves, submits and approves a branding version on A.
func approveBranding(t *testing.T, w *world) {
	st, hdr, body := call(t, "GET", w.a.api+"/admin/v1/tenants/acme/branding/draft", w.pat, "")
	if st != 200 {
		t.Fatalf("draft: %d %s", st, body)
	}
	if st, _, body := call(t, "PUT", w.a.api+"/admin/v1/tenants/acme/branding/draft", w.pat, `{"brand":{"nav_color":"#123456"}}`, "If-Match", hdr.Get("ETag")); st != 200 {
		t.Fatalf("draft: %d %s", st, body)
	}
	st, _, body = call(t, "POST", w.a.api+"/admin/v1/tenants/acme/branding/submit", w.pat, "")
	if st != http.StatusCreated {
		t.Fatalf("submit: %d %s", st, body)
	}
	if st, _, body := call(t, "POST", w.a.api+"/admin/v1/reviews/acme/approve", w.olga, `{"submission_id":"`+jsonField(body, "id")+`"}`); st != 200 {
		t.Fatalf("approve: %d %s", st, body)
	}
}

func renderTable(rows []row) string {
	var b strings.Builder
	b.WriteString("| fault | registrations tried | acknowledged | acknowledged, not stored (lost) | refused, clear and retryable | failed without a clear answer | A's /readyz failed after | registrations back after the fault ended | pages served (branded / failed) | failures seen |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %s | %s | %d (%d / %d) | %s |\n", r.name, r.attempts, r.acked, r.lost,
			r.clear, r.unclear, r.readyz, r.back, r.pages, r.branded, r.pageErrs, r.failures)
	}
	return b.String()
}
