package gatewaytest

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"

	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/apistats"
	"github.com/livery/livery/tenants/codes"
	"github.com/livery/livery/tenants/keyusage"
	"github.com/livery/livery/tenants/notify"
	"github.com/livery/livery/tenants/ratelimit"
	"github.com/livery/livery/tenants/redisindex"
	"github.com/livery/livery/tenants/signing"
)

// Outbox is a notifier that keeps the messages it was asked to deliver,
// so tests can read the code an end user would receive by SMS.
type Outbox struct {
	mu       sync.Mutex
	Messages []notify.Message
}

// Send keeps m.
func (o *Outbox) Send(_ context.Context, m notify.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.Messages = append(o.Messages, m)
	return nil
}

// Last returns the last message sent, failing the test when none was.
func (o *Outbox) Last(t *testing.T) notify.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.Messages) == 0 {
		t.Fatal("no message sent")
	}
	return o.Messages[len(o.Messages)-1]
}

// PartnerEnv is a gateway with the partner API on real dependencies.
type PartnerEnv struct {
	*Gateway
	Store     objstore.Store
	RDB       *redisx.Conn
	creds     *tenants.Credentials
	Customers *tenants.Customers
	Outbox    *Outbox
	Keys      map[string][2]string // tenant → AK, SK
	// AccessKeys is told of every authenticated call (last-used times in
	// the env's Redis).
	AccessKeys *tenants.AccessKeys
	// Stats counts every authenticated call per tenant (the env's Redis).
	Stats *apistats.Stats
}

// PartnerConfig chooses a PartnerEnv's dependencies and limits.
type PartnerConfig struct {
	Real  bool // MinIO + redis-server instead of dir + embedded
	Rates int  // per-API rate (default 50)
	Risk  tenants.RiskPolicy
	// AuthFailures is the per-address failed-authentication budget
	// (zero: AuthFailureLimit).
	AuthFailures ratelimit.Limit
	// TrustedProxies are the gateway's trusted proxies.
	TrustedProxies []*net.IPNet
}

// StartPartnerEnv starts a gateway with the partner API for tenants "pa" and
// "pb" (each with one key pair), customers and codes on the env's store and
// Redis, and the Outbox as notifier.
func StartPartnerEnv(t testing.TB, pc PartnerConfig) *PartnerEnv {
	t.Helper()
	ctx := context.Background()
	e := &PartnerEnv{Outbox: &Outbox{}, Keys: map[string][2]string{}}
	var err error
	if pc.Real {
		m := testenv.StartMinIO(t)
		e.Store, err = objstore.NewS3(ctx, objstore.S3Config{Endpoint: m.Endpoint, Bucket: m.NewBucket(t),
			AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: "us-east-1"})
		if err == nil {
			e.RDB, err = redisx.Open(ctx, redisx.Options{URL: "redis://" + testenv.Redis(t)})
		}
	} else {
		e.Store, err = objstore.NewDir(t.TempDir())
		if err == nil {
			e.RDB, err = redisx.Open(ctx, redisx.Options{})
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.RDB.Close() })
	e.creds, err = tenants.NewCredentials(e.Store, bytes.Repeat([]byte{7}, 32), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	codeStore := codes.New(e.RDB, codes.Options{})
	e.Customers = tenants.NewCustomers(tenants.CustomerOptions{Store: e.Store, Provisioner: tenants.Builtin{},
		Codes: codeStore, Index: redisindex.Index{RDB: e.RDB}, PhoneLimit: 2, Logger: slog.New(slog.DiscardHandler)})
	if pc.Rates == 0 {
		pc.Rates = 50
	}
	up, _ := url.Parse("http://127.0.0.1:1")
	reg, err := tenants.NewRegistry([]tenants.Tenant{
		{ID: "pa", Hosts: []string{"console.pa.test"}, Upstream: up, XAccountType: "pa_platform", Risk: pc.Risk},
		{ID: "pb", Hosts: []string{"console.pb.test"}, Upstream: up, XAccountType: "pb_platform", Risk: pc.Risk},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"pa", "pb"} {
		info, sk, err := e.creds.Create(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		e.Keys[id] = [2]string{info.AccessKey, sk}
	}
	partnerAudit := audit.NewLog(e.Store, tenants.AuditStream)
	e.AccessKeys = tenants.NewAccessKeys(tenants.AccessKeysOptions{Credentials: e.creds, Usage: keyusage.Usage{RDB: e.RDB},
		Audit: partnerAudit, Logger: slog.New(slog.DiscardHandler)})
	e.Stats = apistats.New(e.RDB, apistats.Options{Logger: slog.New(slog.DiscardHandler)})
	e.Gateway = StartGateway(t, "http://127.0.0.1:1", func(o *gateway.Options) {
		o.Proxy.TrustedProxies = pc.TrustedProxies
		o.Partner = &partnerapi.Options{Keys: e.creds, Tenants: reg, Customers: e.Customers, Codes: codeStore,
			Notifier: e.Outbox, Limiter: ratelimit.New(e.RDB), Audit: partnerAudit, KeyUsage: e.AccessKeys, Stats: e.Stats,
			CheckIdentityRate: pc.Rates, SendCodeRate: pc.Rates, CreateRate: pc.Rates, QueryRate: pc.Rates,
			AuthFailureLimit: cmp.Or(pc.AuthFailures, AuthFailureLimit)}
	})
	return e
}

// SDK returns an official Huawei Cloud BSS client signed with tenant's key.
func (e *PartnerEnv) SDK(t *testing.T, tenant string) *bss.BssClient {
	t.Helper()
	k := e.Keys[tenant]
	return e.SDKWith(t, k[0], k[1])
}

// SDKWith returns an official BSS client signed with the key ak, sk.
func (e *PartnerEnv) SDKWith(t *testing.T, ak, sk string) *bss.BssClient {
	t.Helper()
	cred := global.NewCredentialsBuilder().WithAk(ak).WithSk(sk).Build()
	hc, err := bss.BssClientBuilder().WithEndpoints([]string{e.APIURL}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return bss.NewBssClient(hc)
}

// RawCall sends a request signed with Livery's signer (the SDK's
// algorithm), letting tests break it in ways the SDK never would.
type RawCall struct {
	Tenant    string
	Path      string
	Body      string
	Headers   map[string]string // added before signing, and signed
	Unsigned  map[string]string // added after signing
	Date      time.Time         // default now
	Tamper    func(r *http.Request)
	SK        string // override the secret
	signedSet []string
}

// Do sends rc signed with its tenant's key (or rc.SK) and returns the
// response with its body read.
func (e *PartnerEnv) Do(t testing.TB, rc RawCall) (*http.Response, string) {
	t.Helper()
	if rc.Date.IsZero() {
		rc.Date = time.Now()
	}
	k := e.Keys[rc.Tenant]
	if rc.SK != "" {
		k[1] = rc.SK
	}
	req, err := http.NewRequest(http.MethodPost, e.APIURL+rc.Path, strings.NewReader(rc.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for h, v := range rc.Headers {
		req.Header.Set(h, v)
	}
	req.Header.Set(signing.HeaderDate, rc.Date.UTC().Format(signing.DateFormat))
	u, _ := url.Parse(e.APIURL + rc.Path)
	sr := signing.Request{Method: "POST", Path: u.EscapedPath(), RawQuery: u.RawQuery, Host: u.Host, Header: req.Header.Clone(), Body: []byte(rc.Body)}
	auth, err := signing.Sign(sr, k[0], []byte(k[1]), rc.signedSet, rc.Date)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	for h, v := range rc.Unsigned {
		req.Header.Add(h, v)
	}
	if rc.Tamper != nil {
		rc.Tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// CustomerObjects counts the customer records in the store.
func (e *PartnerEnv) CustomerObjects(t *testing.T) int {
	t.Helper()
	n := 0
	for _, id := range []string{"pa", "pb"} {
		objs, err := e.Store.List(context.Background(), "tenants/"+id+"/customers/")
		if err != nil {
			t.Fatal(err)
		}
		n += len(objs)
	}
	return n
}

// AuthFailureLimit is the partner API's failed-authentication budget in
// the harness, as partner_api.auth_failure_limit's default (20/1m).
var AuthFailureLimit = ratelimit.Limit{Rate: 20, Burst: 20, Period: time.Minute}
