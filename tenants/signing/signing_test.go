package signing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 17, 8, 30, 0, 0, time.UTC)

const createBody = `{"domain_name":"partner-sub-0001","xaccount_id":"f6a3c1d2-8b9e-4f70-a1b2-c3d4e5f60718",` +
	`"xaccount_type":"livery_partner","password":"********","is_close_market_ms":"false",` +
	`"cooperation_type":"1","indirect_partner_id":"","include_association_result":true,` +
	`"contact":{"name":"Ünïcødé Name + Co/Ltd","email":"ops@example.com","mobile":"+86-138-0000-0000"},` +
	`"address":"1 Example Road, Building 7, Floor 3, Example District, Example City 100000",` +
	`"tags":["alpha","beta","gamma","delta"],"remark":"created by the demo partner for load testing ` +
	`of the signing verifier; padding padding padding padding padding padding"}` + "\n"

// baseRequest is a typical partner create-customer request, unsigned.
func baseRequest() Request {
	return Request{
		Method: "POST", Path: "/v2/partners/sub-customers", Host: "bss.example.com",
		Header: http.Header{
			"Content-Type": {"application/json"},
			"User-Agent":   {"huaweicloud-usdk-go/3.0"},
			"X-Domain-Id":  {testDomainID},
			"X-Sdk-Date":   {t0.Format(DateFormat)},
		},
		Body: []byte(createBody),
	}
}

func signReq(t testing.TB, r Request, signed []string) Request {
	t.Helper()
	a, err := Sign(r, testAK, []byte(testSK), signed, t0)
	if err != nil {
		t.Fatal(err)
	}
	r.Header = r.Header.Clone()
	r.Header.Set("Authorization", a)
	return r
}

func check(r Request, secret string, o Options) error {
	a, err := ParseAuthorization(r)
	if err != nil {
		return err
	}
	return Verify(r, a, []byte(secret), o)
}

func bodyHash(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestVerifyTable(t *testing.T) {
	authOf := func(r Request) string { return r.Header.Get("Authorization") }
	setAuth := func(r *Request, f func(string) string) { r.Header.Set("Authorization", f(authOf(*r))) }
	cases := []struct {
		name   string
		signed []string         // nil: SDK default choice
		before func(r *Request) // before signing
		after  func(r *Request, o *Options)
		secret string
		want   error
	}{
		{name: "ok", want: nil},
		{name: "ok with query reordered", before: func(r *Request) { r.RawQuery = "b=2&a=1&a=0&c=x%20y" },
			after: func(r *Request, _ *Options) { r.RawQuery = "c=x+y&a=0&b=2&a=1" }},
		{name: "ok with repeated identical signature", after: func(r *Request, o *Options) { o.Now = t0.Add(time.Second) }},
		{name: "ok 14 minutes past", after: func(_ *Request, o *Options) { o.Now = t0.Add(14 * time.Minute) }},
		{name: "ok 14 minutes future", after: func(_ *Request, o *Options) { o.Now = t0.Add(-14 * time.Minute) }},
		{name: "ok custom skew", after: func(_ *Request, o *Options) { o.Now, o.MaxSkew = t0.Add(time.Hour), 2*time.Hour }},
		{name: "ok signed host", signed: []string{"host", "x-domain-id"}},
		{name: "ok trailing slash not signed", after: func(r *Request, _ *Options) { r.Path += "/" }},
		{name: "ok content-type not signed by default", after: func(r *Request, _ *Options) { r.Header.Set("Content-Type", "text/plain") }},
		{name: "16 minutes past", after: func(_ *Request, o *Options) { o.Now = t0.Add(16 * time.Minute) }, want: ErrSkew},
		{name: "16 minutes future", after: func(_ *Request, o *Options) { o.Now = t0.Add(-16 * time.Minute) }, want: ErrSkew},
		{name: "unparsable date", after: func(r *Request, _ *Options) { r.Header.Set("X-Sdk-Date", "2024-05-17T08:30:00Z") }, want: ErrSkew},
		{name: "body changed", after: func(r *Request, _ *Options) { r.Body = append([]byte(nil), r.Body...); r.Body[10] ^= 1 }, want: ErrSignature},
		{name: "body changed with content hash", before: func(r *Request) { r.Header.Set(HeaderContentSha256, bodyHash(r.Body)) },
			after: func(r *Request, _ *Options) { r.Body = []byte("{}") }, want: ErrBodyHash},
		{name: "content hash ok", before: func(r *Request) { r.Header.Set(HeaderContentSha256, bodyHash(r.Body)) }},
		{name: "unsigned payload refused", before: func(r *Request) { r.Header.Set(HeaderContentSha256, UnsignedPayload) }, want: ErrUnsignedPayload},
		{name: "unsigned payload allowed", before: func(r *Request) { r.Header.Set(HeaderContentSha256, UnsignedPayload) },
			after: func(r *Request, o *Options) { o.AllowUnsignedPayload = true; r.Body = []byte("anything") }},
		{name: "duplicate content hash", before: func(r *Request) { r.Header.Set(HeaderContentSha256, bodyHash(r.Body)) },
			after: func(r *Request, _ *Options) { r.Header.Add(HeaderContentSha256, bodyHash(r.Body)) }, want: ErrDuplicate},
		{name: "duplicated Authorization", after: func(r *Request, _ *Options) { r.Header.Add("Authorization", authOf(*r)) }, want: ErrDuplicate},
		{name: "duplicated Authorization other case", after: func(r *Request, _ *Options) { r.Header["authorization"] = []string{authOf(*r)} }, want: ErrDuplicate},
		{name: "duplicated X-Sdk-Date", after: func(r *Request, _ *Options) { r.Header.Add("X-Sdk-Date", t0.Format(DateFormat)) }, want: ErrDuplicate},
		{name: "missing Authorization", after: func(r *Request, _ *Options) { r.Header.Del("Authorization") }, want: ErrMissing},
		{name: "missing X-Sdk-Date", after: func(r *Request, _ *Options) { r.Header.Del("X-Sdk-Date") }, want: ErrMissing},
		{name: "unknown algorithm", after: func(r *Request, _ *Options) {
			setAuth(r, func(s string) string { return strings.Replace(s, Algorithm, "V11-HMAC-SHA256", 1) })
		}, want: ErrMalformed},
		{name: "no x-sdk-date in SignedHeaders", after: func(r *Request, _ *Options) {
			setAuth(r, func(s string) string { return strings.Replace(s, ";x-sdk-date", "", 1) })
		}, want: ErrMalformed},
		{name: "SignedHeaders unsorted", after: func(r *Request, _ *Options) {
			setAuth(r, func(s string) string {
				return strings.Replace(s, "user-agent;x-domain-id", "x-domain-id;user-agent", 1)
			})
		}, want: ErrMalformed},
		{name: "SignedHeaders upper case", after: func(r *Request, _ *Options) {
			setAuth(r, func(s string) string { return strings.Replace(s, "user-agent", "User-Agent", 1) })
		}, want: ErrMalformed},
		{name: "SignedHeaders empty", after: func(r *Request, _ *Options) {
			setAuth(r, func(s string) string { return strings.Replace(s, "user-agent;x-domain-id;x-sdk-date", "", 1) })
		}, want: ErrMalformed},
		{name: "too many SignedHeaders", after: func(r *Request, _ *Options) {
			many := make([]string, 40)
			for i := range many {
				many[i] = "h" + string(rune('a'+i/26)) + string(rune('a'+i%26))
			}
			setAuth(r, func(s string) string { return strings.Replace(s, "user-agent;", strings.Join(many, ";")+";", 1) })
		}, want: ErrMalformed},
		{name: "signed header absent", after: func(r *Request, _ *Options) { r.Header.Del("X-Domain-Id") }, want: ErrMalformed},
		{name: "signed host absent", signed: []string{"host"}, after: func(r *Request, _ *Options) { r.Host = "" }, want: ErrMalformed},
		{name: "signed host changed", signed: []string{"host"}, after: func(r *Request, _ *Options) { r.Host = "evil.example.com" }, want: ErrSignature},
		{name: "wrong secret", secret: testSK + "x", want: ErrSignature},
		{name: "empty secret", secret: "-", want: ErrSignature},
		{name: "tampered signature", after: func(r *Request, _ *Options) {
			setAuth(r, func(s string) string {
				i := len(s) - 1
				return s[:i] + string("10"[map[bool]int{true: 1}[s[i] == '1']])
			})
		}, want: ErrSignature},
		{name: "signature too short", after: func(r *Request, _ *Options) { setAuth(r, func(s string) string { return s[:len(s)-2] }) }, want: ErrMalformed},
		{name: "signature odd hex", after: func(r *Request, _ *Options) { setAuth(r, func(s string) string { return s[:len(s)-1] }) }, want: ErrMalformed},
		{name: "signature not hex", after: func(r *Request, _ *Options) { setAuth(r, func(s string) string { return s[:len(s)-1] + "g" }) }, want: ErrMalformed},
		{name: "Authorization too long", after: func(r *Request, _ *Options) {
			setAuth(r, func(s string) string { return strings.Replace(s, "Access=", "Access="+strings.Repeat("A", 1100), 1) })
		}, want: ErrMalformed},
		{name: "Authorization field repeated", after: func(r *Request, _ *Options) { setAuth(r, func(s string) string { return s + ", Access=X" }) }, want: ErrMalformed},
		{name: "Authorization garbage", after: func(r *Request, _ *Options) { r.Header.Set("Authorization", Algorithm+" nonsense") }, want: ErrMalformed},
		{name: "path case changed", after: func(r *Request, _ *Options) { r.Path = "/v2/partners/Sub-customers" }, want: ErrSignature},
		{name: "path bad escape", after: func(r *Request, _ *Options) { r.Path = "/v2/%zz" }, want: ErrMalformed},
		{name: "query added", after: func(r *Request, _ *Options) { r.RawQuery = "x=1" }, want: ErrSignature},
		{name: "query bad escape", after: func(r *Request, _ *Options) { r.RawQuery = "x=%4" }, want: ErrMalformed},
		{name: "method changed", after: func(r *Request, _ *Options) { r.Method = "PUT" }, want: ErrSignature},
		{name: "signed header changed", after: func(r *Request, _ *Options) { r.Header.Set("X-Domain-Id", "other") }, want: ErrSignature},
		{name: "signed header value padded still ok", after: func(r *Request, _ *Options) { r.Header.Set("X-Domain-Id", "  "+testDomainID+" ") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := baseRequest()
			if tc.before != nil {
				tc.before(&r)
			}
			r = signReq(t, r, tc.signed)
			o := Options{Now: t0}
			if tc.after != nil {
				tc.after(&r, &o)
			}
			secret := testSK
			if tc.secret == "-" {
				secret = ""
			} else if tc.secret != "" {
				secret = tc.secret
			}
			err := check(r, secret, o)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestCanonical pins the canonical forms against hand-computed SDK output.
func TestCanonical(t *testing.T) {
	paths := map[string]string{
		"":                           "/",
		"/":                          "/",
		"/v2/partners/sub-customers": "/v2/partners/sub-customers/",
		"/v2/a%20b/%C3%BC/x+y/":      "/v2/a%20b/%C3%BC/x%2By/",
		"/v2/a%2Fb":                  "/v2/a%2Fb/",
		"/v2/%7e~":                   "/v2/~~/",
	}
	for in, want := range paths {
		got, err := appendCanonicalURI(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("URI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	queries := map[string]string{
		"":                          "",
		"b=2&a=1":                   "a=1&b=2",
		"a=2&a=10&a=1":              "a=1&a=10&a=2",
		"q=a+b&r=a%20b&s=a%2Bb":     "q=a%20b&r=a%20b&s=a%2Bb",
		"k&&x=%2F&u=%E6%97%A5":      "k=&u=%E6%97%A5&x=%2F",
		"a%20b=1&a-b=2&a~=3&a.=%7E": "a%20b=1&a-b=2&a.=~&a~=3",
	}
	for in, want := range queries {
		got, err := appendCanonicalQuery(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("Query(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSignRejects(t *testing.T) {
	r := baseRequest()
	for name, f := range map[string]func() error{
		"empty ak":     func() error { _, err := Sign(r, "", []byte(testSK), nil, t0); return err },
		"ak with ,":    func() error { _, err := Sign(r, "a,b", []byte(testSK), nil, t0); return err },
		"empty secret": func() error { _, err := Sign(r, testAK, nil, nil, t0); return err },
		"date differs": func() error { _, err := Sign(r, testAK, []byte(testSK), nil, t0.Add(time.Second)); return err },
		"absent":       func() error { _, err := Sign(r, testAK, []byte(testSK), []string{"x-missing"}, t0); return err },
	} {
		if err := f(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
