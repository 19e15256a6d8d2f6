package tenants

import (
	"testing"
	"time"
)

func TestQuotaString(t *testing.T) {
	for _, tc := range []struct {
		q    Quota
		want string
	}{
		{PerHour(3), "3/1h"},
		{Quota{N: 10, Per: 90 * time.Minute}, "10/1h30m"},
		{Quota{N: 5, Per: 5 * time.Minute}, "5/5m"},
		{Quota{N: 2, Per: 90 * time.Second}, "2/1m30s"},
		{Quota{N: 1, Per: 10 * time.Second}, "1/10s"},
		{Quota{N: 600, Per: 24 * time.Hour}, "600/24h"},
	} {
		if got := tc.q.String(); got != tc.want {
			t.Errorf("%+v.String() = %q; want %q", tc.q, got, tc.want)
		}
	}
}
