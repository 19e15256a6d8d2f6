package gatewaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/codes"
	"github.com/livery/livery/tenants/ratelimit"
	"github.com/livery/livery/tenants/redisindex"
	"github.com/livery/livery/tenants/signing"
)

// StoreEnv is a gateway whose three doors to the object store — the
// partner API, the admin API (branding) and branding assets on the console
// listener — and its readiness check all use one store behind
// objstore.WithTimeout, as cmd/livery wires it, on a real MinIO ("s3") or
// a directory ("dir") that the test can take away.
type StoreEnv struct {
	*BrandEnv
	Bounded *objstore.Bounded
	minio   testenv.MinIO // s3 only
	root    string        // dir only
	ak, sk  string        // acme's partner key
	client  *http.Client  // bounded: a hung gateway fails the test, not the run
}

// NewStoreEnv starts a StoreEnv on driver ("s3": MinIO, "dir": a directory)
// with timeout as the store's bound.
func NewStoreEnv(t *testing.T, driver string, timeout time.Duration) *StoreEnv {
	t.Helper()
	ctx := context.Background()
	e := &StoreEnv{client: &http.Client{Timeout: 6 * timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	var raw objstore.Store
	var err error
	switch driver {
	case "s3":
		e.minio = testenv.StartMinIO(t)
		raw, err = objstore.NewS3(ctx, objstore.S3Config{Endpoint: e.minio.Endpoint, Bucket: e.minio.NewBucket(t),
			AccessKey: e.minio.AccessKey, SecretKey: e.minio.SecretKey})
	case "dir":
		e.root = filepath.Join(t.TempDir(), "store")
		raw, err = objstore.NewDir(e.root)
	default:
		t.Fatalf("unknown driver %q", driver)
	}
	if err != nil {
		t.Fatal(err)
	}
	e.Bounded = objstore.WithTimeout(raw, timeout)
	store := e.Bounded
	rdb, err := redisx.Open(ctx, redisx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	creds, err := tenants.NewCredentials(store, bytes.Repeat([]byte{9}, 32), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	info, sk, err := creds.Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	e.ak, e.sk = info.AccessKey, sk
	quiet := slog.New(slog.DiscardHandler)
	b := &BrandEnv{Store: store}
	b.StaffEnv = NewStaffEnv(t, func(se *StaffEnv, o *gateway.Options) {
		chrome := b.startBranding(t, store, se.RDB, render.DefaultUpstream())
		o.Branding = &gateway.BrandingOptions{Chrome: chrome, Assets: branded.WorkflowAssets{Images: b.wf, Chrome: chrome}, Workflow: b.wf}
		customers := tenants.NewCustomers(tenants.CustomerOptions{Store: store, Provisioner: tenants.Builtin{},
			Codes: codes.New(rdb, codes.Options{}), Index: redisindex.Index{RDB: rdb}, PhoneLimit: 2, Logger: quiet})
		o.Partner = &partnerapi.Options{Keys: creds, Tenants: se.reg, Customers: customers, Codes: codes.New(rdb, codes.Options{}),
			Notifier: &Outbox{}, Limiter: ratelimit.New(rdb), Audit: audit.NewLog(store, tenants.AuditStream),
			CheckIdentityRate: 50, SendCodeRate: 50, CreateRate: 50, QueryRate: 50, AuthFailureLimit: AuthFailureLimit}
		o.Checks = []gateway.Check{{Name: "redis", Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
			{Name: "store", Check: store.Ping}}
	})
	e.BrandEnv = b
	return e
}

// TakeDown makes the store unusable in the way the fault names, undoing it
// on cleanup where that is possible: "frozen" (MinIO stopped with SIGSTOP),
// "stopped" (MinIO killed) or "gone" (the directory root moved away).
func (e *StoreEnv) TakeDown(t *testing.T, fault string) {
	t.Helper()
	switch fault {
	case "frozen":
		e.minio.Freeze(t)
	case "stopped":
		e.minio.Stop()
	case "gone":
		if err := os.Rename(e.root, e.root+".away"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Rename(e.root+".away", e.root) })
	default:
		t.Fatalf("unknown fault %q", fault)
	}
}

// Logo uploads a logo of colour c as acme's partner admin and
// returns its asset JSON and console URL.
func (e *StoreEnv) Logo(t *testing.T, c color.Color) (asset, path string) {
	t.Helper()
	r := e.Upload(t, "acme", e.Token(t, "pa-acme"), PNGImage(t, c))
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var up struct {
		Asset json.RawMessage `json:"asset"`
		URL   string          `json:"url"`
	}
	if err := json.Unmarshal([]byte(r.Body), &up); err != nil {
		t.Fatal(err)
	}
	return string(up.Asset), up.URL
}

// Send does req with the env's bounded client; a client timeout is a test
// failure naming the request.
func (e *StoreEnv) Send(t *testing.T, req *http.Request) Response {
	t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// PartnerCall sends a partner API request signed with acme's key.
func (e *StoreEnv) PartnerCall(t *testing.T, path, body string) Response {
	t.Helper()
	now := time.Now()
	req := NewRequest(t, http.MethodPost, e.APIURL+path, strings.NewReader(body), "Content-Type", "application/json")
	req.Header.Set(signing.HeaderDate, now.UTC().Format(signing.DateFormat))
	u, _ := url.Parse(e.APIURL + path)
	auth, err := signing.Sign(signing.Request{Method: http.MethodPost, Path: u.EscapedPath(), Host: u.Host,
		Header: req.Header.Clone(), Body: []byte(body)}, e.ak, []byte(e.sk), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	return e.Send(t, req)
}

// AdminCall sends an admin API request as acme's partner admin.
func (e *StoreEnv) AdminCall(t *testing.T, method, path, body string, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	headers = append(headers, "Authorization", "Bearer "+e.Token(t, "pa-acme"))
	return e.Send(t, NewRequest(t, method, e.APIURL+path, rd, headers...))
}

// Asset fetches a branding asset on acme's console as an API client would
// (Accept: JSON, so errors come as Livery's JSON error body).
func (e *StoreEnv) Asset(t *testing.T, path string) Response {
	t.Helper()
	return e.Send(t, NewRequest(t, http.MethodGet, e.ConsoleURL+path, nil, "Accept", "image/png, application/json"))
}
