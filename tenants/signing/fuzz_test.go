package signing

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

// FuzzVerify feeds arbitrary header/path/query/body strings to
// ParseAuthorization and Verify: they must never panic, and must never
// accept anything for a secret the fuzzer cannot know.
func FuzzVerify(f *testing.F) {
	good := signReq(f, baseRequest(), nil)
	f.Add(good.Header.Get("Authorization"), t0.Format(DateFormat), good.Path, "a=1&b=%20", createBody, "")
	f.Add(Algorithm+" Access=a, SignedHeaders=x-sdk-date, Signature="+strings.Repeat("0", 64), "20240517T083000Z", "/%zz", "%", "", UnsignedPayload)
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, authz, date, path, query, body, contentHash string) {
		r := Request{Method: "POST", Path: path, RawQuery: query, Host: "h", Body: []byte(body),
			Header: http.Header{"Authorization": {authz}, "X-Sdk-Date": {date}, "X-Domain-Id": {"d"}, "User-Agent": {"u"}}}
		if contentHash != "" {
			r.Header.Set(HeaderContentSha256, contentHash)
		}
		o := Options{Now: t0, AllowUnsignedPayload: len(body)%2 == 0}
		if a, err := ParseAuthorization(r); err == nil {
			if err := Verify(r, a, []byte("fuzz-secret-never-guessed"), o); err == nil {
				t.Fatalf("accepted a forged signature: %q", authz)
			}
		} else if !isSentinel(err) {
			t.Fatalf("ParseAuthorization error without sentinel: %v", err)
		}
		// Hand-built (unvalidated) Authorization values must be handled too.
		a := Authorization{AccessKey: authz, SignedHeaders: strings.Split(path, ";"), Signature: []byte(body)}
		if err := Verify(r, a, []byte(date), o); err == nil {
			t.Fatalf("accepted hand-built authorization %+v", a)
		} else if !isSentinel(err) {
			t.Fatalf("Verify error without sentinel: %v", err)
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrMissing, ErrMalformed, ErrDuplicate, ErrSkew, ErrUnsignedPayload, ErrBodyHash, ErrSignature} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzSignVerify: whatever Sign accepts, Verify accepts; flipping a body
// byte then makes Verify fail.
func FuzzSignVerify(f *testing.F) {
	f.Add("POST", "/v2/partners/sub-customers", "", createBody, "u")
	f.Add("GET", "/v2/a%20b/%C3%BC/", "q=a+b&x=%2F&u=%E6%97%A5&k", "", " padded ")
	f.Add("", "", "&&=&", "\x00", "")
	f.Fuzz(func(t *testing.T, method, path, query, body, hv string) {
		r := Request{Method: method, Path: path, RawQuery: query, Host: "bss.example.com", Body: []byte(body),
			Header: http.Header{"User-Agent": {hv}, "X-Domain-Id": {"dom"}, "Content-Type": {"application/json"}}}
		a, err := Sign(r, testAK, []byte(testSK), nil, t0)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Sign: unexpected error %v", err)
			}
			return // undecodable path or query
		}
		r.Header.Set("X-Sdk-Date", t0.Format(DateFormat))
		r.Header.Set("Authorization", a)
		if err := check(r, testSK, Options{Now: t0}); err != nil {
			t.Fatalf("sign then verify: %v (%s)", err, a)
		}
		if len(r.Body) > 0 {
			r.Body[len(r.Body)/2] ^= 0x01
			if err := check(r, testSK, Options{Now: t0}); !errors.Is(err, ErrSignature) {
				t.Fatalf("flipped body byte: got %v", err)
			}
		}
	})
}

// FuzzSDKInterop is a differential fuzzer: the official SDK signs an
// arbitrary path segment, query key/value and body; what it puts on the
// wire must verify.
func FuzzSDKInterop(f *testing.F) {
	f.Add("cust 1", "q", "a+b/ü", `{"a":1}`)
	f.Add("%41;:@", "k~.", "", "")
	f.Fuzz(func(t *testing.T, seg, key, val, body string) {
		if key == "" { // the SDK's wire encoding mangles an empty first key
			return
		}
		b := request.NewHttpRequestBuilder().WithEndpoint("https://bss.example.com").WithMethod("POST").
			WithPath("/v2/"+seg+"/x").AddQueryParam(key, reflect.ValueOf(val)).
			AddHeaderParam("Content-Type", "application/json").AddHeaderParam("X-Domain-Id", "d").WithBody("", body)
		sr := b.Build()
		add, err := signer.Sign(sr, testAK, testSK)
		if err != nil {
			t.Fatal(err)
		}
		hr, err := sr.ConvertRequest()
		if err != nil {
			return // e.g. the path makes an unparsable URL
		}
		for k, v := range add {
			hr.Header.Set(k, v)
		}
		rb, _ := io.ReadAll(hr.Body)
		r := Request{Method: hr.Method, Path: hr.URL.EscapedPath(), RawQuery: hr.URL.RawQuery, Host: hr.URL.Host, Header: hr.Header, Body: rb}
		if err := check(r, testSK, Options{Now: time.Now()}); err != nil {
			t.Fatalf("SDK request does not verify: %v\npath=%q query=%q", err, r.Path, r.RawQuery)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	r := signReq(b, baseRequest(), nil)
	secret := []byte(testSK)
	o := Options{Now: t0}
	b.SetBytes(int64(len(r.Body)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := ParseAuthorization(r)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(r, a, secret, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyParsed(b *testing.B) {
	r := signReq(b, baseRequest(), nil)
	a, _ := ParseAuthorization(r)
	secret := []byte(testSK)
	o := Options{Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(r, a, secret, o); err != nil {
			b.Fatal(err)
		}
	}
}
