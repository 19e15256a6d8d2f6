package partnerapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestPartnerBadInput: every malformed request gets the right reference
// code and writes nothing.
func TestPartnerBadInput(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: true})
	const create = "/v2/partners/sub-customers"
	valid := `{"xaccount_id":"bad-input","xaccount_type":"pa_platform","domain_name":"good_name"}`
	field := func(extra string) string {
		return `{"xaccount_id":"bad-input","xaccount_type":"pa_platform",` + extra + `}`
	}
	tests := []struct {
		name     string
		call     gatewaytest.RawCall
		status   int
		code     string
		msgParts []string
	}{
		{"empty body", gatewaytest.RawCall{Path: create}, 400, "CBC.0100", []string{"body: is empty"}},
		{"malformed json", gatewaytest.RawCall{Path: create, Body: `{"xaccount_id":`}, 400, "CBC.0100", []string{"not a valid JSON"}},
		{"trailing data", gatewaytest.RawCall{Path: create, Body: valid + `{}`}, 400, "CBC.0100", []string{"data after"}},
		{"json array", gatewaytest.RawCall{Path: create, Body: `[]`}, 400, "CBC.0100", nil},
		{"unknown field", gatewaytest.RawCall{Path: create, Body: field(`"admin":true`)}, 400, "CBC.0100", []string{"admin: is not a known field"}},
		{"wrong type", gatewaytest.RawCall{Path: create, Body: `{"xaccount_id":12,"xaccount_type":"pa_platform"}`}, 400, "CBC.0100", []string{"xaccount_id: must be of JSON type string"}},
		{"missing xaccount_id", gatewaytest.RawCall{Path: create, Body: `{"xaccount_type":"pa_platform"}`}, 400, "CBC.0100", []string{"xaccount_id: is required"}},
		{"xaccount_id too long", gatewaytest.RawCall{Path: create, Body: field(`"indirect_partner_id":"x"`)[:0] + fmt.Sprintf(`{"xaccount_id":%q,"xaccount_type":"pa_platform"}`, strings.Repeat("x", 129))}, 400, "CBC.0100", []string{"at most 128"}},
		{"control char", gatewaytest.RawCall{Path: create, Body: `{"xaccount_id":"a\u0000b","xaccount_type":"pa_platform"}`}, 400, "CBC.0100", []string{"control characters"}},
		{"name too short", gatewaytest.RawCall{Path: create, Body: field(`"domain_name":"abc"`)}, 400, "CBC.99000031", []string{"domain_name"}},
		{"name look-alike unicode", gatewaytest.RawCall{Path: create, Body: field(`"domain_name":"аcme_corp"`)}, 400, "CBC.99000031", nil},
		{"name op_ prefix", gatewaytest.RawCall{Path: create, Body: field(`"domain_name":"op_service"`)}, 400, "CBC.99000031", []string{"op_"}},
		{"name all digits", gatewaytest.RawCall{Path: create, Body: field(`"domain_name":"1234567"`)}, 400, "CBC.99000031", nil},
		{"name sql", gatewaytest.RawCall{Path: create, Body: field(`"domain_name":"x'; DROP TABLE users;--"`)}, 400, "CBC.99000031", nil},
		{"name script", gatewaytest.RawCall{Path: create, Body: field(`"domain_name":"<script>alert(1)</script>"`)}, 400, "CBC.99000031", nil},
		{"phone format", gatewaytest.RawCall{Path: create, Body: field(`"mobile_phone":"12345","verification_code":"123456"`)}, 400, "CBC.5017", nil},
		{"phone without code", gatewaytest.RawCall{Path: create, Body: field(`"mobile_phone":"13812345678"`)}, 400, "CBC.0100", []string{"verification_code: is required"}},
		{"code not 6 digits", gatewaytest.RawCall{Path: create, Body: field(`"mobile_phone":"13812345678","verification_code":"12ab"`)}, 400, "CBC.0100", nil},
		{"code never issued", gatewaytest.RawCall{Path: create, Body: field(`"mobile_phone":"13812345678","verification_code":"123456"`)}, 400, "CBC.99004010", nil},
		{"password weak", gatewaytest.RawCall{Path: create, Body: field(`"password":"aaaaaaaa"`)}, 400, "CBC.99000036", nil},
		{"password is name reversed", gatewaytest.RawCall{Path: create, Body: field(`"domain_name":"Abc_12345","password":"54321_cbA"`)}, 400, "CBC.99000036", nil},
		{"password has phone", gatewaytest.RawCall{Path: create, Body: field(`"mobile_phone":"13812345678","verification_code":"123456","password":"Pw13812345678"`)}, 400, "CBC.99000036", nil},
		{"is_close_market_ms bad", gatewaytest.RawCall{Path: create, Body: field(`"is_close_market_ms":"yes"`)}, 400, "CBC.0100", nil},
		{"script in xaccount type", gatewaytest.RawCall{Path: create, Body: `{"xaccount_id":"x","xaccount_type":"<script>alert(1)</script>"}`}, 403, "CBC.0151", nil},
		{"sql in query field", gatewaytest.RawCall{Path: "/v2/partners/sub-customers/query", Body: `{"account_name":"' OR 1=1 --"}`}, 200, "", nil},
		{"query limit 0", gatewaytest.RawCall{Path: "/v2/partners/sub-customers/query", Body: `{"limit":0}`}, 400, "CBC.0100", []string{"limit"}},
		{"query limit 101", gatewaytest.RawCall{Path: "/v2/partners/sub-customers/query", Body: `{"limit":101}`}, 400, "CBC.0100", nil},
		{"query negative offset", gatewaytest.RawCall{Path: "/v2/partners/sub-customers/query", Body: `{"offset":-1}`}, 400, "CBC.0100", nil},
		{"query bad date", gatewaytest.RawCall{Path: "/v2/partners/sub-customers/query", Body: `{"associated_on_begin":"yesterday"}`}, 400, "CBC.0100", []string{"associated_on_begin"}},
		{"query bad association", gatewaytest.RawCall{Path: "/v2/partners/sub-customers/query", Body: `{"association_type":"3"}`}, 400, "CBC.0100", nil},
		{"check bad type", gatewaytest.RawCall{Path: "/v2/partners/sub-customers/users/check-identity", Body: `{"search_type":"ssn","search_value":"x"}`}, 400, "CBC.0100", nil},
		{"check too long", gatewaytest.RawCall{Path: "/v2/partners/sub-customers/users/check-identity", Body: fmt.Sprintf(`{"search_type":"name","search_value":%q}`, strings.Repeat("a", 65))}, 400, "CBC.0100", nil},
		{"send code receiver", gatewaytest.RawCall{Path: "/v2/bases/verificationcode/send", Body: `{"receiver_type":2,"mobile_phone":"13812345678"}`}, 400, "CBC.0100", nil},
		{"send code phone", gatewaytest.RawCall{Path: "/v2/bases/verificationcode/send", Body: `{"receiver_type":1,"mobile_phone":"+1-555-0100"}`}, 400, "CBC.5017", nil},
		{"send code lang", gatewaytest.RawCall{Path: "/v2/bases/verificationcode/send", Body: `{"receiver_type":1,"mobile_phone":"13812345678","lang":"fr"}`}, 400, "CBC.0100", nil},
		{"unknown endpoint", gatewaytest.RawCall{Path: "/v2/partners/nothing", Body: valid}, 404, "CBC.0100", nil},

		// Signature problems: 401 CBC.0154.
		{"date 16 minutes old", gatewaytest.RawCall{Path: create, Body: valid, Date: time.Now().Add(-16 * time.Minute)}, 401, "CBC.0154", nil},
		{"date 16 minutes ahead", gatewaytest.RawCall{Path: create, Body: valid, Date: time.Now().Add(16 * time.Minute)}, 401, "CBC.0154", nil},
		{"body changed after signing", gatewaytest.RawCall{Path: create, Body: valid, Tamper: func(r *http.Request) {
			changed := strings.Replace(valid, "good_name", "evil_name", 1)
			r.Body, r.ContentLength = ioNopCloser(changed), int64(len(changed))
		}}, 401, "CBC.0154", nil},
		{"wrong secret", gatewaytest.RawCall{Path: create, Body: valid, SK: "wrong"}, 401, "CBC.0154", nil},
		{"duplicated authorization", gatewaytest.RawCall{Path: create, Body: valid, Tamper: func(r *http.Request) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}}, 401, "CBC.0154", nil},
		{"duplicated date", gatewaytest.RawCall{Path: create, Body: valid, Tamper: func(r *http.Request) {
			r.Header.Add("X-Sdk-Date", r.Header.Get("X-Sdk-Date"))
		}}, 401, "CBC.0154", nil},
		{"missing authorization", gatewaytest.RawCall{Path: create, Body: valid, Tamper: func(r *http.Request) { r.Header.Del("Authorization") }}, 401, "CBC.0154", nil},
		{"missing date", gatewaytest.RawCall{Path: create, Body: valid, Tamper: func(r *http.Request) { r.Header.Del("X-Sdk-Date") }}, 401, "CBC.0154", nil},
		{"unknown access key", gatewaytest.RawCall{Path: create, Body: valid, Tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Access=", "Access=ZZ", 1))
		}}, 401, "CBC.0154", nil},
		{"unsigned payload", gatewaytest.RawCall{Path: create, Body: valid, Headers: map[string]string{"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}}, 401, "CBC.0154", nil},
	}
	before := e.CustomerObjects(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call.Tenant = "pa"
			resp, body := e.Do(t, tt.call)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.code != "" && !strings.Contains(body, `"error_code":"`+tt.code+`"`) {
				t.Fatalf("want %s: %s", tt.code, body)
			}
			for _, p := range tt.msgParts {
				if !strings.Contains(body, p) {
					t.Errorf("message lacks %q: %s", p, body)
				}
			}
			if !strings.Contains(body, resp.Header.Get("X-Request-Id")) && tt.status != 200 {
				t.Errorf("no request id in %s", body)
			}
		})
	}
	if after := e.CustomerObjects(t); after != before {
		t.Fatalf("bad input wrote %d customer records", after-before)
	}
}

// TestPartnerOversizedBody: a body over the API listener's limit is
// refused with 413 before it is read.
func TestPartnerOversizedBody(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.APIURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v2/partners/sub-customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 2<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(body), `"error_code":"CBC.0100"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if e.CustomerObjects(t) != 0 {
		t.Fatal("oversized request wrote a customer")
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func ioNopCloser(s string) nopCloser { return nopCloser{strings.NewReader(s)} }
