package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"

	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/codes"
	"github.com/livery/livery/tenants/notify"
	"github.com/livery/livery/tenants/ratelimit"
	"github.com/livery/livery/tenants/redisindex"
	"github.com/livery/livery/tenants/signing"
)

// outbox is a notifier that keeps the messages it was asked to deliver,
// so tests can read the code an end user would receive by SMS.
type outbox struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (o *outbox) Send(_ context.Context, m notify.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return nil
}

func (o *outbox) last(t *testing.T) notify.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) == 0 {
		t.Fatal("no message sent")
	}
	return o.msgs[len(o.msgs)-1]
}

// partnerEnv is a gateway with the partner API on real dependencies.
type partnerEnv struct {
	*testGateway
	store     objstore.Store
	rdb       *redisx.Conn
	creds     *tenants.Credentials
	customers *tenants.Customers
	outbox    *outbox
	keys      map[string][2]string // tenant → AK, SK
}

type partnerCfg struct {
	real  bool // MinIO + redis-server instead of dir + embedded
	rates int  // per-API rate (default 50)
	risk  tenants.RiskPolicy
	// authFailures is the per-address failed-authentication budget
	// (zero: the default).
	authFailures ratelimit.Limit
}

func startPartnerEnv(t testing.TB, pc partnerCfg) *partnerEnv {
	t.Helper()
	ctx := context.Background()
	e := &partnerEnv{outbox: &outbox{}, keys: map[string][2]string{}}
	var err error
	if pc.real {
		m := testenv.StartMinIO(t)
		e.store, err = objstore.NewS3(ctx, objstore.S3Config{Endpoint: m.Endpoint, Bucket: m.NewBucket(t),
			AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: "us-east-1"})
		if err == nil {
			e.rdb, err = redisx.Open(ctx, redisx.Options{URL: "redis://" + testenv.Redis(t)})
		}
	} else {
		e.store, err = objstore.NewDir(t.TempDir())
		if err == nil {
			e.rdb, err = redisx.Open(ctx, redisx.Options{})
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.rdb.Close() })
	e.creds, err = tenants.NewCredentials(e.store, bytes.Repeat([]byte{7}, 32), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	codeStore := codes.New(e.rdb, codes.Options{})
	e.customers = tenants.NewCustomers(tenants.CustomerOptions{Store: e.store, Provisioner: tenants.Builtin{},
		Codes: codeStore, Index: redisindex.Index{RDB: e.rdb}, PhoneLimit: 2, Logger: slog.New(slog.DiscardHandler)})
	if pc.rates == 0 {
		pc.rates = 50
	}
	up, _ := url.Parse("http://127.0.0.1:1")
	reg, err := tenants.NewRegistry([]tenants.Tenant{
		{ID: "pa", Hosts: []string{"console.pa.test"}, Upstream: up, XAccountType: "pa_platform", Risk: pc.risk},
		{ID: "pb", Hosts: []string{"console.pb.test"}, Upstream: up, XAccountType: "pb_platform", Risk: pc.risk},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"pa", "pb"} {
		info, sk, err := e.creds.Create(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[id] = [2]string{info.AccessKey, sk}
	}
	e.testGateway = startGateway(t, "http://127.0.0.1:1", func(o *Options) {
		o.Partner = &partnerapi.Options{Keys: e.creds, Tenants: reg, Customers: e.customers, Codes: codeStore,
			Notifier: e.outbox, Limiter: ratelimit.New(e.rdb), Audit: audit.NewLog(e.store, tenants.AuditStream),
			CheckIdentityRate: pc.rates, SendCodeRate: pc.rates, CreateRate: pc.rates, QueryRate: pc.rates,
			AuthFailureLimit: pc.authFailures}
	})
	return e
}

// sdk returns an official Huawei Cloud BSS client signed with tenant's key.
func (e *partnerEnv) sdk(t *testing.T, tenant string) *bss.BssClient {
	t.Helper()
	k := e.keys[tenant]
	return e.sdkWith(t, k[0], k[1])
}

func (e *partnerEnv) sdkWith(t *testing.T, ak, sk string) *bss.BssClient {
	t.Helper()
	cred := global.NewCredentialsBuilder().WithAk(ak).WithSk(sk).Build()
	hc, err := bss.BssClientBuilder().WithEndpoints([]string{e.apiURL}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return bss.NewBssClient(hc)
}

// rawCall sends a request signed with Livery's signer (the SDK's
// algorithm), letting tests break it in ways the SDK never would.
type rawCall struct {
	tenant    string
	path      string
	body      string
	headers   map[string]string // added before signing, and signed
	unsigned  map[string]string // added after signing
	date      time.Time         // default now
	tamper    func(r *http.Request)
	sk        string // override the secret
	signedSet []string
}

func (e *partnerEnv) do(t testing.TB, rc rawCall) (*http.Response, string) {
	t.Helper()
	if rc.date.IsZero() {
		rc.date = time.Now()
	}
	k := e.keys[rc.tenant]
	if rc.sk != "" {
		k[1] = rc.sk
	}
	req, err := http.NewRequest(http.MethodPost, e.apiURL+rc.path, strings.NewReader(rc.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for h, v := range rc.headers {
		req.Header.Set(h, v)
	}
	req.Header.Set(signing.HeaderDate, rc.date.UTC().Format(signing.DateFormat))
	u, _ := url.Parse(e.apiURL + rc.path)
	sr := signing.Request{Method: "POST", Path: u.EscapedPath(), RawQuery: u.RawQuery, Host: u.Host, Header: req.Header.Clone(), Body: []byte(rc.body)}
	auth, err := signing.Sign(sr, k[0], []byte(k[1]), rc.signedSet, rc.date)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	for h, v := range rc.unsigned {
		req.Header.Add(h, v)
	}
	if rc.tamper != nil {
		rc.tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// customerObjects counts the customer records in the store.
func (e *partnerEnv) customerObjects(t *testing.T) int {
	t.Helper()
	n := 0
	for _, id := range []string{"pa", "pb"} {
		objs, err := e.store.List(context.Background(), "tenants/"+id+"/customers/")
		if err != nil {
			t.Fatal(err)
		}
		n += len(objs)
	}
	return n
}
