package signing

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/impl"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
)

const (
	testAK       = "HPUAEXAMPLEAK0000001"
	testSK       = "exampleSecretKey0123456789abcdefghijklmn"
	testDomainID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
)

// fromSDK signs an SDK request with the official signer and converts it to
// what a server would see: escaped path and raw query as put on the wire by
// the SDK's own ConvertRequest.
func fromSDK(t *testing.T, b *request.HttpRequestBuilder) (Request, string) {
	t.Helper()
	r := b.Build()
	add, err := signer.Sign(r, testAK, testSK)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := r.ConvertRequest()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range add {
		hr.Header.Set(k, v)
	}
	body, _ := io.ReadAll(hr.Body)
	return Request{Method: hr.Method, Path: hr.URL.EscapedPath(), RawQuery: hr.URL.RawQuery,
		Host: hr.URL.Host, Header: hr.Header, Body: body}, add["Authorization"]
}

func sdkBuilder(method, path string) *request.HttpRequestBuilder {
	return request.NewHttpRequestBuilder().WithEndpoint("https://bss-intl.myhuaweicloud.com").
		WithMethod(method).WithPath(path)
}

type customer struct {
	PartyID string `json:"party_id"`
	Name    string `json:"display_name"`
}

func TestSDKSignerInterop(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	date := now.Format(DateFormat)
	cases := []struct {
		name     string
		b        *request.HttpRequestBuilder
		unsigned bool
	}{
		{"create customer json", sdkBuilder("POST", "/v2/partners/sub-customers").
			AddHeaderParam("Content-Type", "application/json;charset=UTF-8").
			AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0").
			AddHeaderParam("X-Domain-Id", testDomainID).
			WithBody("", &customer{PartyID: "p-1", Name: "Ünïcødé <&> +/ ok"}), false},
		{"get with awkward query", sdkBuilder("GET", "/v2/partners/sub-customers/query").
			AddQueryParam("space", reflect.ValueOf("a b  c")).
			AddQueryParam("plus", reflect.ValueOf("1+1=2")).
			AddQueryParam("slash", reflect.ValueOf("a/b%2Fc")).
			AddQueryParam("uni", reflect.ValueOf("日本語 ü")).
			AddQueryParam("empty", reflect.ValueOf("")).
			AddQueryParam("multi", reflect.ValueOf([]string{"z", "a b", "m"})).
			AddQueryParam("int", reflect.ValueOf(int32(42))).
			AddQueryParam("a key~with.chars", reflect.ValueOf("~._-")), false},
		{"awkward path", sdkBuilder("DELETE", "/v2/a b/ü/x+y/%41/semi;colon/").
			AddHeaderParam("X-Custom", "  padded value  ").
			AddHeaderParam("X_Underscore", "never signed"), false},
		{"fixed date header", sdkBuilder("PUT", "/v2/partners/sub-customers/{id}").
			AddPathParam("id", "cust 1").AddHeaderParam("X-Sdk-Date", date).
			AddHeaderParam("Content-Type", "application/json").WithBody("", map[string]int{"x": 1}), false},
		{"octet stream is unsigned", sdkBuilder("POST", "/v2/upload").
			AddHeaderParam("Content-Type", "application/octet-stream").WithBody("", "raw bytes"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, sdkAuth := fromSDK(t, tc.b)
			auth, err := ParseAuthorization(req)
			if err != nil {
				t.Fatalf("parse %q: %v", sdkAuth, err)
			}
			opts := Options{Now: time.Now(), AllowUnsignedPayload: tc.unsigned}
			if err := Verify(req, auth, []byte(testSK), opts); err != nil {
				t.Fatalf("verify SDK request %+v: %v", req, err)
			}
			if tc.unsigned {
				opts.AllowUnsignedPayload = false
				if err := Verify(req, auth, []byte(testSK), opts); !errors.Is(err, ErrUnsignedPayload) {
					t.Fatalf("unsigned payload refused? got %v", err)
				}
			}
			for _, h := range auth.SignedHeaders {
				if h == "content-type" || strings.Contains(h, "_") {
					t.Errorf("SDK signed %q", h)
				}
			}
			// The reverse: our Sign, with the SDK's default header choice,
			// produces the SDK's exact Authorization value.
			ts, err := time.Parse(DateFormat, req.Header.Get(HeaderDate))
			if err != nil {
				t.Fatal(err)
			}
			unsignedReq := req
			unsignedReq.Header = req.Header.Clone()
			unsignedReq.Header.Del("Authorization")
			mine, err := Sign(unsignedReq, testAK, []byte(testSK), nil, ts)
			if err != nil {
				t.Fatal(err)
			}
			if mine != sdkAuth {
				t.Fatalf("Sign mismatch\n got %s\nwant %s", mine, sdkAuth)
			}
		})
	}
}

// TestGlobalCredentials signs the way the BSS client does for a partner
// (global credentials with a domain id) and pins what the SDK really signs.
func TestGlobalCredentials(t *testing.T) {
	cred, err := global.NewCredentialsBuilder().WithAk(testAK).WithSk(testSK).WithDomainId(testDomainID).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	b := sdkBuilder("POST", "/v2/partners/sub-customers").WithSigningAlgorithm(algorithm.HmacSHA256).
		AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0").
		AddHeaderParam("Content-Type", "application/json").
		WithBody("", &customer{PartyID: "p-2", Name: "global"})
	r, err := cred.ProcessAuthRequest(impl.NewDefaultHttpClient(config.DefaultHttpConfig()), b.Build())
	if err != nil {
		t.Fatal(err)
	}
	hr, err := r.ConvertRequest()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hr.Body)
	req := Request{Method: hr.Method, Path: hr.URL.EscapedPath(), RawQuery: hr.URL.RawQuery, Host: hr.URL.Host, Header: hr.Header, Body: body}
	if got := req.Header.Get("X-Domain-Id"); got != testDomainID {
		t.Fatalf("X-Domain-Id = %q", got)
	}
	auth, err := ParseAuthorization(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(auth.SignedHeaders, ";"); got != "user-agent;x-domain-id;x-sdk-date" {
		t.Fatalf("SignedHeaders = %q", got)
	}
	if err := Verify(req, auth, []byte(testSK), Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestBssClientEndToEnd runs the real BSS client against a local server and
// verifies exactly what arrives on the wire.
func TestBssClientEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var got []Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		path, rawQuery, _ := strings.Cut(r.RequestURI, "?")
		mu.Lock()
		got = append(got, Request{Method: r.Method, Path: path, RawQuery: rawQuery, Host: r.Host, Header: r.Header.Clone(), Body: body})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	cred := global.NewCredentialsBuilder().WithAk(testAK).WithSk(testSK).WithDomainId(testDomainID).Build()
	hc, err := bss.BssClientBuilder().WithEndpoints([]string{srv.URL}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	client := bss.NewBssClient(hc)
	domain, coop := "partner-sub-01", "1"
	if _, err := client.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
		DomainName: &domain, XaccountId: "x-acc-1 + ü/é", XaccountType: "partner_ext", CooperationType: &coop,
	}}); err != nil {
		t.Fatal(err)
	}
	cst, cid := "hws.service.type.ebs", "cust id/1+2"
	if _, err := client.ListSubcustomerMonthlyBills(&model.ListSubcustomerMonthlyBillsRequest{
		CustomerId: &cid, Cycle: "2024-05", CloudServiceType: &cst, ChargeMode: "日本 ü",
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("server saw %d requests", len(got))
	}
	for i, req := range got {
		auth, err := ParseAuthorization(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(req, auth, []byte(testSK), Options{}); err != nil {
			t.Fatalf("request %d %s %s?%s: %v", i, req.Method, req.Path, req.RawQuery, err)
		}
		if sh := strings.Join(auth.SignedHeaders, ";"); sh != "user-agent;x-domain-id;x-sdk-date" {
			t.Errorf("request %d SignedHeaders = %q", i, sh)
		}
		if ua := req.Header.Get("User-Agent"); !strings.HasPrefix(ua, "huaweicloud-usdk-go/3.0") {
			t.Errorf("User-Agent = %q", ua)
		}
		if ct := req.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		t.Logf("%s %s?%s headers=%v body=%q", req.Method, req.Path, req.RawQuery, req.Header, req.Body)
	}
	if !bytes.HasSuffix(got[0].Body, []byte("}\n")) {
		t.Errorf("SDK JSON body has no trailing newline: %q", got[0].Body)
	}
	q, _ := url.ParseQuery(got[1].RawQuery)
	if q.Get("customer_id") != "cust id/1+2" {
		t.Errorf("query = %q", got[1].RawQuery)
	}
}
