package partnerapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/tenants"
)

// createWith registers xid on tenant pa with the given client-context
// headers (signed).
func createWith(e *gatewaytest.PartnerEnv, t *testing.T, xid string, headers map[string]string) (int, string) {
	t.Helper()
	r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers", Headers: headers,
		Body: fmt.Sprintf(`{"xaccount_id":%q,"xaccount_type":"pa_platform"}`, xid)})
	return r.StatusCode, b
}

// TestPartnerClientAddressCanonical: X-Client-Ip is one address in one
// spelling: variants of a counted address share its quota, IPv6 addresses
// count by /64, and anything that is not a plain address is refused with
// 400 CBC.0100 naming the header, charging nothing.
func TestPartnerClientAddressCanonical(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: true, Risk: tenants.RiskPolicy{PerAddress: tenants.PerHour(1)}})
	n := 0
	next := func() string { n++; return fmt.Sprintf("addr-%d", n) }
	for _, tc := range []struct {
		addr   string
		status int
		code   string
	}{
		{"198.51.100.7", 200, ""},
		{"::ffff:198.51.100.7", 429, partnerapi.RiskRefusedCode}, // IPv4-mapped: the same address
		{"::FFFF:198.51.100.7", 429, partnerapi.RiskRefusedCode},
		{"198.051.100.007", 400, "CBC.0100"}, // leading zeros: refused, not a new address
		{"198.51.100.7:1234", 400, "CBC.0100"},
		{"not-an-ip", 400, "CBC.0100"},
		{"[2001:db8::1]", 400, "CBC.0100"},
		{"fe80::1%eth0", 400, "CBC.0100"},
		{"198.51.100.7/32", 400, "CBC.0100"},
		{"198.51.100.7, 203.0.113.9", 400, "CBC.0100"},
		{"3325256711", 400, "CBC.0100"},
		{"2001:db8:1:2::1", 200, ""},
		{"2001:db8:1:2:ffff:ffff:ffff:fffe", 429, partnerapi.RiskRefusedCode}, // same /64
		{"2001:DB8:1:2:0:0:0:9", 429, partnerapi.RiskRefusedCode},
		{"2001:db8:1:3::1", 200, ""}, // another /64
	} {
		status, body := createWith(e, t, next(), map[string]string{partnerapi.HeaderClientAddress: tc.addr})
		if status != tc.status || (tc.code != "" && !strings.Contains(body, `"error_code":"`+tc.code+`"`)) {
			t.Errorf("X-Client-Ip %q: %d %s, want %d %s", tc.addr, status, body, tc.status, tc.code)
		}
		if status == 400 && !strings.Contains(body, partnerapi.HeaderClientAddress+":") {
			t.Errorf("X-Client-Ip %q: message does not name the header: %s", tc.addr, body)
		}
	}
}

// TestPartnerDeviceCanonical: X-Client-Device-Id is trimmed and case-folded
// (one device, one quota), garbage is refused with 400 CBC.0100 naming the
// header, and with risk.require_device a registration without it is refused.
func TestPartnerDeviceCanonical(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: true, Risk: tenants.RiskPolicy{PerDevice: tenants.PerHour(1)}})
	n := 0
	next := func() string { n++; return fmt.Sprintf("dev-%d", n) }
	for _, tc := range []struct {
		device string
		status int
		code   string
	}{
		{"Dev-Alpha-1", 200, ""},
		{"dev-alpha-1", 429, partnerapi.RiskRefusedCode},
		{"DEV-ALPHA-1", 429, partnerapi.RiskRefusedCode},
		{" dev-Alpha-1\t", 429, partnerapi.RiskRefusedCode},
		{"dev alpha 1", 400, "CBC.0100"},
		{"dév-alpha-1", 400, "CBC.0100"},
		{"dev-\u212alpha", 400, "CBC.0100"}, // Kelvin sign: no Unicode folding
		{"<script>", 400, "CBC.0100"},
		{"abc", 400, "CBC.0100"},
		{strings.Repeat("d", 129), 400, "CBC.0100"},
		{strings.Repeat("d", 128), 200, ""},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", 200, ""},
		{"0F8FAD5B-D9CB-469F-A165-70867728950E", 429, partnerapi.RiskRefusedCode},
	} {
		status, body := createWith(e, t, next(), map[string]string{partnerapi.HeaderClientDevice: tc.device})
		if status != tc.status || (tc.code != "" && !strings.Contains(body, `"error_code":"`+tc.code+`"`)) {
			t.Errorf("X-Client-Device-Id %q: %d %s, want %d %s", tc.device, status, body, tc.status, tc.code)
		}
		if status == 400 && !strings.Contains(body, partnerapi.HeaderClientDevice+":") {
			t.Errorf("X-Client-Device-Id %q: message does not name the header: %s", tc.device, body)
		}
	}
	// Without the setting, a registration without a device id is allowed.
	if status, body := createWith(e, t, next(), nil); status != 200 {
		t.Fatalf("no device, not required: %d %s", status, body)
	}

	req := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Risk: tenants.RiskPolicy{RequireDevice: true}})
	before := req.CustomerObjects(t)
	for _, h := range []map[string]string{nil, {partnerapi.HeaderClientDevice: "   "}, {partnerapi.HeaderClientAddress: "203.0.113.7"}} {
		status, body := createWith(req, t, "needs-device", h)
		if status != 400 || !strings.Contains(body, `"error_code":"CBC.0100"`) || !strings.Contains(body, partnerapi.HeaderClientDevice+": is required") {
			t.Errorf("required device missing (%v): %d %s", h, status, body)
		}
	}
	if req.CustomerObjects(t) != before {
		t.Fatal("a refused registration wrote a customer")
	}
	if status, body := createWith(req, t, "needs-device", map[string]string{partnerapi.HeaderClientDevice: "device-0001"}); status != 200 {
		t.Fatalf("required device present: %d %s", status, body)
	}
}

// TestPartnerConcurrentRetriesChargedOnce: 30 concurrent identical creates
// (same partner, xaccount, device and phone code) all answer 200 with the
// same customer, and the device quota is charged once: with a quota of 2 a
// second account from the device still registers, and a third is refused.
func TestPartnerConcurrentRetriesChargedOnce(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: true, Risk: tenants.RiskPolicy{PerDevice: tenants.PerHour(2)}})
	if r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/bases/verificationcode/send",
		Body: `{"receiver_type":1,"mobile_phone":"13812345670"}`}); r.StatusCode != 204 {
		t.Fatalf("send code: %d %s", r.StatusCode, b)
	}
	code := e.Outbox.Last(t).Code
	headers := map[string]string{partnerapi.HeaderClientDevice: "device-retry-1", partnerapi.HeaderClientAddress: "203.0.113.50"}
	body := fmt.Sprintf(`{"xaccount_id":"retry-1","xaccount_type":"pa_platform","domain_name":"retry_one",`+
		`"mobile_phone":"13812345670","verification_code":%q}`, code)
	const n = 30
	type answer struct {
		status int
		body   string
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers", Headers: headers, Body: body})
			answers[i] = answer{r.StatusCode, b}
		}()
	}
	close(start)
	wg.Wait()
	var first string
	for i, a := range answers {
		var got struct {
			DomainID string `json:"domain_id"`
		}
		if a.status != 200 || json.Unmarshal([]byte(a.body), &got) != nil || got.DomainID == "" {
			t.Errorf("request %d: %d %s", i+1, a.status, a.body)
			continue
		}
		if first == "" {
			first = got.DomainID
		} else if got.DomainID != first {
			t.Errorf("request %d: customer %s, want %s", i+1, got.DomainID, first)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if objs := e.CustomerObjects(t); objs != 1 {
		t.Fatalf("%d customer records, want 1", objs)
	}
	// The device's quota of 2 was charged once by the 30 requests.
	if status, b := createWith(e, t, "retry-2", headers); status != 200 {
		t.Fatalf("second account from the device: %d %s", status, b)
	}
	if status, b := createWith(e, t, "retry-3", headers); status != 429 || !strings.Contains(b, partnerapi.RiskRefusedCode) {
		t.Fatalf("third account from the device: %d %s, want 429 %s", status, b, partnerapi.RiskRefusedCode)
	}
}
