package partnerapi_test

import (
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestKeyLastUsed: an authenticated call records its key's last use (read
// back through the access keys' list); a failed authentication records
// nothing; the other tenant's key stays unused.
func TestKeyLastUsed(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{})
	lastUsed := func(tenant string) *time.Time {
		t.Helper()
		list, err := e.AccessKeys.List(t.Context(), tenant)
		if err != nil || len(list) != 1 {
			t.Fatalf("keys of %s: %+v %v", tenant, list, err)
		}
		return list[0].LastUsedAt
	}
	// A wrong secret: refused, not a use.
	if resp, _ := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers/query", Body: `{}`, SK: "wrong"}); resp.StatusCode != 401 {
		t.Fatalf("bad signature: %d", resp.StatusCode)
	}
	if lu := lastUsed("pa"); lu != nil {
		t.Fatalf("failed authentication recorded as a use: %v", lu)
	}
	before := time.Now().Add(-time.Second)
	if _, err := e.SDK(t, "pa").ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{}}); err != nil {
		t.Fatal(err)
	}
	if lu := lastUsed("pa"); lu == nil || lu.Before(before.Truncate(time.Second)) || lu.After(time.Now()) {
		t.Fatalf("last used %v, want about now", lu)
	}
	if lu := lastUsed("pb"); lu != nil {
		t.Fatalf("pb's key used: %v", lu)
	}
}
