package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livery/livery/internal/config"
)

func TestRedisOptionsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, tc := range []struct {
		name string
		r    config.Redis
		want string
	}{
		{"missing CA file", config.Redis{URL: "rediss://h:6379", TLSCAFile: filepath.Join(dir, "nope.pem")}, "redis.tls_ca_file: open"},
		{"not PEM", config.Redis{URL: "rediss://h:6379", TLSCAFile: notPEM}, "redis.tls_ca_file: " + notPEM + " holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redisOptions(tc.r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("redisOptions = %v; want %q", err, tc.want)
			}
		})
	}
	o, err := redisOptions(config.Redis{MasterName: "m", SentinelAddrs: []string{"s:26379"}, TLS: true})
	if err != nil || o.MasterName != "m" || !o.TLS || len(o.SentinelAddrs) != 1 {
		t.Errorf("sentinel options = %+v, %v", o, err)
	}
}
