package gateway

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/tenants"
)

// BenchmarkCreateCustomer measures signed create-customer requests through
// the API listener against real MinIO and redis-server (each op is a new
// customer: signature check, rate limit, risk control, conditional writes,
// provisioning, index, audit):
//
//	./scripts/test.sh -run '^$' -bench CreateCustomer ./gateway
func BenchmarkCreateCustomer(b *testing.B) {
	e := startPartnerEnv(b, partnerCfg{real: true, rates: 1 << 20,
		risk: tenants.RiskPolicy{PerPartner: tenants.Quota{N: 1 << 30, Per: time.Second}}})
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			resp, body := e.do(b, rawCall{tenant: "pa", path: "/v2/partners/sub-customers",
				body: fmt.Sprintf(`{"xaccount_id":"bench-%d","xaccount_type":"pa_platform"}`, i)})
			if resp.StatusCode != 200 {
				b.Fatalf("%d %s", resp.StatusCode, body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "customers/s")
}
