package partnerapi_test

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/tenants/apistats"
)

// TestRequestStats: every answered call of an authenticated tenant is
// counted once by operation and the code the client got (success too);
// a failed authentication is nobody's; the other tenant counts nothing.
func TestRequestStats(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{})
	if resp, _ := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers/query", Body: `{}`, SK: "wrong"}); resp.StatusCode != 401 {
		t.Fatalf("bad signature: %d", resp.StatusCode)
	}
	if _, err := e.SDK(t, "pa").ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{}}); err != nil {
		t.Fatal(err)
	}
	// A refused body: the handler's error code is what is counted.
	resp, body := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers", Body: `{"nonsense":1}`})
	if resp.StatusCode < 400 {
		t.Fatalf("bad create: %d %s", resp.StatusCode, body)
	}
	s, err := e.Stats.Summary(t.Context(), "pa", 1)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, c := range s.Counts {
		counts[c.Operation+" "+c.Code] = c.Count
	}
	if s.Total != 2 || counts["query "+apistats.CodeSuccess] != 1 || len(counts) != 2 {
		t.Fatalf("pa counts: %+v (%s)", s.Counts, body)
	}
	for k := range counts {
		if k != "query success" && (len(k) < 11 || k[:7] != "create ") {
			t.Fatalf("unexpected count %q", k)
		}
	}
	if s, _ := e.Stats.Summary(t.Context(), "pb", 1); s.Total != 0 {
		t.Fatalf("pb counted: %+v", s)
	}
}
