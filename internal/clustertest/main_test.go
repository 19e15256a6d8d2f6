package clustertest

import (
	"os"
	"testing"

	"github.com/livery/livery/internal/redisx"
)

func TestMain(m *testing.M) {
	redisx.SetLogger(quiet) // go-redis reports every failed dial of a failover
	os.Exit(m.Run())
}
