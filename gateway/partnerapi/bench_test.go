package partnerapi_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/tenants"
)

// BenchmarkCreateCustomer measures signed create-customer requests through
// the API listener against real MinIO and redis-server (each op is a new
// customer: signature check, rate limit, risk control, conditional writes,
// provisioning, index, audit):
//
//	./scripts/test.sh -run '^$' -bench CreateCustomer ./gateway
func BenchmarkCreateCustomer(b *testing.B) {
	e := gatewaytest.StartPartnerEnv(b, gatewaytest.PartnerConfig{Real: true, Rates: 1 << 20,
		Risk: tenants.RiskPolicy{PerPartner: tenants.Quota{N: 1 << 30, Per: time.Second}}})
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			resp, body := e.Do(b, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers",
				Body: fmt.Sprintf(`{"xaccount_id":"bench-%d","xaccount_type":"pa_platform"}`, i)})
			if resp.StatusCode != 200 {
				b.Fatalf("%d %s", resp.StatusCode, body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "customers/s")
}
