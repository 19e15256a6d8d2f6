package partnerapi_test

import (
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestPartnerStrictJSON: every lax form is refused with 400 CBC.0100 naming
// the member, on every partner endpoint, and nothing is written.
func TestPartnerStrictJSON(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: true})
	endpoints := []struct {
		name, path, field, value, rest string
	}{
		{"create", "/v2/partners/sub-customers", "xaccount_id", "coll", `"xaccount_type":"pa_platform"`},
		{"query", "/v2/partners/sub-customers/query", "account_name", "coll", `"limit":10`},
		{"check-identity", "/v2/partners/sub-customers/users/check-identity", "search_value", "some_name", `"search_type":"name"`},
		{"send-code", "/v2/bases/verificationcode/send", "mobile_phone", "13812345678", `"receiver_type":1`},
	}
	before := e.CustomerObjects(t)
	for _, ep := range endpoints {
		for _, lf := range gatewaytest.LaxForms {
			t.Run(ep.name+"/"+lf.Name, func(t *testing.T) {
				body := gatewaytest.Object(lf.Member(ep.field, ep.value, gatewaytest.Same), ep.rest)
				r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: ep.path, Body: body})
				if r.StatusCode != 400 || !strings.Contains(b, `"error_code":"CBC.0100"`) {
					t.Fatalf("%q: %d %s, want 400 CBC.0100", body, r.StatusCode, b)
				}
				if !strings.Contains(strings.ToLower(b), ep.field+":") {
					t.Fatalf("%q: message does not name %s: %s", body, ep.field, b)
				}
			})
		}
	}
	if after := e.CustomerObjects(t); after != before {
		t.Fatalf("lax JSON created %d customers", after-before)
	}
	if len(e.Outbox.Messages) != 0 {
		t.Fatalf("lax JSON sent %d codes", len(e.Outbox.Messages))
	}
	// The strict reading still accepts what it should: escapes of valid
	// characters, including a surrogate pair.
	r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers",
		Body: `{"xaccount_id":"coll\u00e9\ud83d\ude00","xaccount_type":"pa_platform"}`})
	if r.StatusCode != 200 {
		t.Fatalf("valid escapes refused: %d %s", r.StatusCode, b)
	}
}
