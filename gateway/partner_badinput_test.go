package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPartnerBadInput: every malformed request gets the right reference
// code and writes nothing.
func TestPartnerBadInput(t *testing.T) {
	e := startPartnerEnv(t, partnerCfg{real: true})
	const create = "/v2/partners/sub-customers"
	valid := `{"xaccount_id":"bad-input","xaccount_type":"pa_platform","domain_name":"good_name"}`
	field := func(extra string) string {
		return `{"xaccount_id":"bad-input","xaccount_type":"pa_platform",` + extra + `}`
	}
	tests := []struct {
		name     string
		call     rawCall
		status   int
		code     string
		msgParts []string
	}{
		{"empty body", rawCall{path: create}, 400, "CBC.0100", []string{"body: is empty"}},
		{"malformed json", rawCall{path: create, body: `{"xaccount_id":`}, 400, "CBC.0100", []string{"not a valid JSON"}},
		{"trailing data", rawCall{path: create, body: valid + `{}`}, 400, "CBC.0100", []string{"data after"}},
		{"json array", rawCall{path: create, body: `[]`}, 400, "CBC.0100", nil},
		{"unknown field", rawCall{path: create, body: field(`"admin":true`)}, 400, "CBC.0100", []string{"admin: is not a known field"}},
		{"wrong type", rawCall{path: create, body: `{"xaccount_id":12,"xaccount_type":"pa_platform"}`}, 400, "CBC.0100", []string{"xaccount_id: must be of JSON type string"}},
		{"missing xaccount_id", rawCall{path: create, body: `{"xaccount_type":"pa_platform"}`}, 400, "CBC.0100", []string{"xaccount_id: is required"}},
		{"xaccount_id too long", rawCall{path: create, body: field(`"indirect_partner_id":"x"`)[:0] + fmt.Sprintf(`{"xaccount_id":%q,"xaccount_type":"pa_platform"}`, strings.Repeat("x", 129))}, 400, "CBC.0100", []string{"at most 128"}},
		{"control char", rawCall{path: create, body: `{"xaccount_id":"a\u0000b","xaccount_type":"pa_platform"}`}, 400, "CBC.0100", []string{"control characters"}},
		{"name too short", rawCall{path: create, body: field(`"domain_name":"abc"`)}, 400, "CBC.99000031", []string{"domain_name"}},
		{"name look-alike unicode", rawCall{path: create, body: field(`"domain_name":"аcme_corp"`)}, 400, "CBC.99000031", nil},
		{"name op_ prefix", rawCall{path: create, body: field(`"domain_name":"op_service"`)}, 400, "CBC.99000031", []string{"op_"}},
		{"name all digits", rawCall{path: create, body: field(`"domain_name":"1234567"`)}, 400, "CBC.99000031", nil},
		{"name sql", rawCall{path: create, body: field(`"domain_name":"x'; DROP TABLE users;--"`)}, 400, "CBC.99000031", nil},
		{"name script", rawCall{path: create, body: field(`"domain_name":"<script>alert(1)</script>"`)}, 400, "CBC.99000031", nil},
		{"phone format", rawCall{path: create, body: field(`"mobile_phone":"12345","verification_code":"123456"`)}, 400, "CBC.5017", nil},
		{"phone without code", rawCall{path: create, body: field(`"mobile_phone":"13812345678"`)}, 400, "CBC.0100", []string{"verification_code: is required"}},
		{"code not 6 digits", rawCall{path: create, body: field(`"mobile_phone":"13812345678","verification_code":"12ab"`)}, 400, "CBC.0100", nil},
		{"code never issued", rawCall{path: create, body: field(`"mobile_phone":"13812345678","verification_code":"123456"`)}, 400, "CBC.99004010", nil},
		{"password weak", rawCall{path: create, body: field(`"password":"aaaaaaaa"`)}, 400, "CBC.99000036", nil},
		{"password is name reversed", rawCall{path: create, body: field(`"domain_name":"Abc_12345","password":"54321_cbA"`)}, 400, "CBC.99000036", nil},
		{"password has phone", rawCall{path: create, body: field(`"mobile_phone":"13812345678","verification_code":"123456","password":"Pw13812345678"`)}, 400, "CBC.99000036", nil},
		{"is_close_market_ms bad", rawCall{path: create, body: field(`"is_close_market_ms":"yes"`)}, 400, "CBC.0100", nil},
		{"script in xaccount type", rawCall{path: create, body: `{"xaccount_id":"x","xaccount_type":"<script>alert(1)</script>"}`}, 403, "CBC.0151", nil},
		{"sql in query field", rawCall{path: "/v2/partners/sub-customers/query", body: `{"account_name":"' OR 1=1 --"}`}, 200, "", nil},
		{"query limit 0", rawCall{path: "/v2/partners/sub-customers/query", body: `{"limit":0}`}, 400, "CBC.0100", []string{"limit"}},
		{"query limit 101", rawCall{path: "/v2/partners/sub-customers/query", body: `{"limit":101}`}, 400, "CBC.0100", nil},
		{"query negative offset", rawCall{path: "/v2/partners/sub-customers/query", body: `{"offset":-1}`}, 400, "CBC.0100", nil},
		{"query bad date", rawCall{path: "/v2/partners/sub-customers/query", body: `{"associated_on_begin":"yesterday"}`}, 400, "CBC.0100", []string{"associated_on_begin"}},
		{"query bad association", rawCall{path: "/v2/partners/sub-customers/query", body: `{"association_type":"3"}`}, 400, "CBC.0100", nil},
		{"check bad type", rawCall{path: "/v2/partners/sub-customers/users/check-identity", body: `{"search_type":"ssn","search_value":"x"}`}, 400, "CBC.0100", nil},
		{"check too long", rawCall{path: "/v2/partners/sub-customers/users/check-identity", body: fmt.Sprintf(`{"search_type":"name","search_value":%q}`, strings.Repeat("a", 65))}, 400, "CBC.0100", nil},
		{"send code receiver", rawCall{path: "/v2/bases/verificationcode/send", body: `{"receiver_type":2,"mobile_phone":"13812345678"}`}, 400, "CBC.0100", nil},
		{"send code phone", rawCall{path: "/v2/bases/verificationcode/send", body: `{"receiver_type":1,"mobile_phone":"+1-555-0100"}`}, 400, "CBC.5017", nil},
		{"send code lang", rawCall{path: "/v2/bases/verificationcode/send", body: `{"receiver_type":1,"mobile_phone":"13812345678","lang":"fr"}`}, 400, "CBC.0100", nil},
		{"unknown endpoint", rawCall{path: "/v2/partners/nothing", body: valid}, 404, "CBC.0100", nil},

		// Signature problems: 401 CBC.0154.
		{"date 16 minutes old", rawCall{path: create, body: valid, date: time.Now().Add(-16 * time.Minute)}, 401, "CBC.0154", nil},
		{"date 16 minutes ahead", rawCall{path: create, body: valid, date: time.Now().Add(16 * time.Minute)}, 401, "CBC.0154", nil},
		{"body changed after signing", rawCall{path: create, body: valid, tamper: func(r *http.Request) {
			changed := strings.Replace(valid, "good_name", "evil_name", 1)
			r.Body, r.ContentLength = ioNopCloser(changed), int64(len(changed))
		}}, 401, "CBC.0154", nil},
		{"wrong secret", rawCall{path: create, body: valid, sk: "wrong"}, 401, "CBC.0154", nil},
		{"duplicated authorization", rawCall{path: create, body: valid, tamper: func(r *http.Request) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}}, 401, "CBC.0154", nil},
		{"duplicated date", rawCall{path: create, body: valid, tamper: func(r *http.Request) {
			r.Header.Add("X-Sdk-Date", r.Header.Get("X-Sdk-Date"))
		}}, 401, "CBC.0154", nil},
		{"missing authorization", rawCall{path: create, body: valid, tamper: func(r *http.Request) { r.Header.Del("Authorization") }}, 401, "CBC.0154", nil},
		{"missing date", rawCall{path: create, body: valid, tamper: func(r *http.Request) { r.Header.Del("X-Sdk-Date") }}, 401, "CBC.0154", nil},
		{"unknown access key", rawCall{path: create, body: valid, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Access=", "Access=ZZ", 1))
		}}, 401, "CBC.0154", nil},
		{"unsigned payload", rawCall{path: create, body: valid, headers: map[string]string{"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}}, 401, "CBC.0154", nil},
	}
	before := e.customerObjects(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call.tenant = "pa"
			resp, body := e.do(t, tt.call)
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
	if after := e.customerObjects(t); after != before {
		t.Fatalf("bad input wrote %d customer records", after-before)
	}
}

// TestPartnerOversizedBody: a body over the API listener's limit is
// refused with 413 before it is read.
func TestPartnerOversizedBody(t *testing.T) {
	e := startPartnerEnv(t, partnerCfg{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.apiURL, "http://"))
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
	if e.customerObjects(t) != 0 {
		t.Fatal("oversized request wrote a customer")
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func ioNopCloser(s string) nopCloser { return nopCloser{strings.NewReader(s)} }
