package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func envMap(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEmbeddedDefaultsAreValid(t *testing.T) {
	cfg, err := Load("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Driver != "dir" || !cfg.Redis.Embedded() || len(cfg.Tenants) != 1 {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestExampleConfigIsValidWithSecretsFromEnvAndFiles(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../configs/livery.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	redisPw := filepath.Join(dir, "redis-password")
	s3Secret := filepath.Join(dir, "s3-secret")
	os.WriteFile(redisPw, []byte("r-secret\n"), 0o600)
	os.WriteFile(s3Secret, []byte("s3-secret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "sms"), []byte("tok"), 0o600)
	masterKey := filepath.Join(dir, "master")
	os.WriteFile(masterKey, []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "oidc"), []byte("oidc-secret\n"), 0o600)
	data = []byte(strings.NewReplacer("/run/secrets/staff-oidc-secret", filepath.Join(dir, "oidc"),
		"/run/secrets/partner-a-oidc-secret", filepath.Join(dir, "oidc"), "/run/secrets/redis-password", redisPw,
		"/run/secrets/s3-secret-key", s3Secret, "/run/secrets/livery-master-key", masterKey, "/run/secrets/sms-token", filepath.Join(dir, "sms")).Replace(string(data)))
	cfg, problems := Parse(data, noEnv)
	if len(problems) > 0 {
		t.Fatalf("example config invalid: %v", problems)
	}
	if cfg.Redis.Password != "r-secret" || cfg.Store.S3.SecretKey != "s3-secret" {
		t.Fatalf("secrets not read from files: %q %q", cfg.Redis.Password, cfg.Store.S3.SecretKey)
	}
	if cfg.Staff.OIDC.ClientSecret != "oidc-secret" || cfg.Tenants[0].OIDC.ClientSecret != "oidc-secret" ||
		cfg.Staff.RoleMap["partner-admins"] != "partner_admin" || len(cfg.Identity.AssertionKeys) != 2 {
		t.Fatalf("identity settings: %+v %+v", cfg.Staff, cfg.Identity)
	}
	if len(cfg.Tenants) != 2 || cfg.Tenants[1].Hosts[1] != "console.partner-b.example.cn" {
		t.Fatalf("tenants: %+v", cfg.Tenants)
	}
}

func TestEnvOverrides(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "sk")
	os.WriteFile(secretFile, []byte("from-file\n"), 0o600)
	cfg, problems := Parse(mustDefault(t), envMap(map[string]string{
		"LIVERY_CONSOLE_ADDR":                  "127.0.0.1:9999",
		"LIVERY_PROXY_RESPONSE_HEADER_TIMEOUT": "7s",
		"LIVERY_STORE_DRIVER":                  "s3",
		"LIVERY_STORE_S3_ENDPOINT":             "minio:9000",
		"LIVERY_STORE_S3_BUCKET":               "livery",
		"LIVERY_STORE_S3_ACCESS_KEY":           "ak",
		"LIVERY_STORE_S3_SECRET_KEY_FILE":      secretFile,
		"LIVERY_STORE_S3_USE_SSL":              "true",
		"LIVERY_REDIS_URL":                     "redis://r:6379/1",
		"LIVERY_PROXY_TRUSTED_PROXIES":         "10.0.0.0/8, 192.168.0.0/16",
		"LIVERY_SECURITY_MASTER_KEY":           "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"LIVERY_PARTNER_API_CREATE_RATE":       "3",
	}))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if cfg.Console.Addr != "127.0.0.1:9999" || cfg.Proxy.ResponseHeaderTimeout != 7*time.Second ||
		cfg.Store.S3.SecretKey != "from-file" || !cfg.Store.S3.UseSSL || cfg.Redis.Embedded() ||
		len(cfg.Proxy.TrustedProxies) != 2 || cfg.Partner.CreateRate != 3 {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
}

func mustDefault(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../configs/livery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadInputListsEveryProblem checks that each defect is reported with
// its path, and that several defects are all reported in one pass.
func TestBadInputListsEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string // substrings, each must appear in some problem
	}{
		{name: "malformed yaml", yaml: "console: [\n", want: []string{"yaml: "}},
		{name: "unknown keys all listed", yaml: "consol: {}\nstore: {drivr: dir}\ntenants: []\n",
			want: []string{"field consol not found", "field drivr not found"}},
		{name: "redis modes", yaml: `
redis: {url: "redis://h:6379", sentinel_addrs: [s1, "s2:26379"], tls: true}
tenants: []
`, want: []string{"set one of url (standalone), addrs (cluster) or sentinel_addrs (sentinel), not several",
			"redis.master_name: is required with sentinel_addrs", `redis.sentinel_addrs[0]: must be host:port, got "s1"`,
			"redis.tls: is for addrs and sentinel_addrs; with url, use the rediss:// scheme"}},
		{name: "managed is file or store", yaml: `
tenants:
  - {id: a1, name: {zh: 甲, en: A}, hosts: [x.example], upstream: "https://c.example", managed: both}
`, want: []string{`tenants[0].managed: must be file or store, got "both"`}},
		{name: "missing upstream and bad url and duplicate host", yaml: `
tenants:
  - {id: a1, name: {zh: 甲, en: A}, hosts: [x.example]}
  - {id: b1, name: {zh: 乙, en: B}, hosts: [X.example.], upstream: "ftp://h"}
  - {id: c1, name: {zh: 丙, en: C}, hosts: [c.example], upstream: "/relative"}
`, want: []string{
			"tenants[0].upstream: is required",
			"tenants[1].hosts[0]: host \"x.example\" is already used by tenants[0]",
			"tenants[1].upstream: must be an absolute http(s) URL",
			"tenants[2].upstream: must be an absolute http(s) URL",
		}},
		{name: "bad ids names and hosts", yaml: `
tenants:
  - {id: Bad_ID, name: {zh: "", en: "a\u0001"}, hosts: ["bad host"], upstream: "http://u:p@h"}
  - {id: ok1, name: {zh: 甲, en: A}, hosts: [], upstream: "http://h?q=1"}
`, want: []string{"tenants[0].id: must match", "tenants[0].name.zh: is required",
			"tenants[0].name.en: must not contain control", "tenants[0].hosts[0]: must be a host name",
			"tenants[0].upstream: must not contain credentials", "tenants[1].hosts: at least one",
			"tenants[1].upstream: must not contain a query"}},
		{name: "secrets in file refused", yaml: `
redis: {url: "redis://:pw@r:6379"}
store: {driver: s3, s3: {endpoint: "http://m:9000", bucket: B, secret_key: inline}}
tenants: [{id: a1, name: {zh: 甲, en: A}, hosts: [a.example], upstream: "http://u"}]
`, want: []string{"store.s3.secret_key: secrets must not be written", "redis.url: must not contain a password",
			"store.s3.endpoint: must be host[:port]", "store.s3.bucket: must be a valid bucket", "store.s3.access_key: is required"}},
		{name: "s3 credentials chain with keys, and an unknown kind", yaml: `
store: {driver: s3, s3: {endpoint: "m:9000", bucket: livery, credentials: chain, access_key: AK}}
tenants: [{id: a1, name: {zh: 甲, en: A}, hosts: [a.example], upstream: "http://u"}]
`, want: []string{"store.s3.credentials: is chain (environment, shared file, IAM role): remove store.s3.access_key"}},
		{name: "s3 credentials unknown", yaml: `
store: {driver: s3, s3: {endpoint: "m:9000", bucket: livery, credentials: instance}}
tenants: [{id: a1, name: {zh: 甲, en: A}, hosts: [a.example], upstream: "http://u"}]
`, want: []string{"store.s3.credentials: must be static or chain"}},
		{name: "bad env overrides", yaml: string(mustDefault(t)), env: map[string]string{
			"LIVERY_PROXY_CONNECT_TIMEOUT": "soon", "LIVERY_STORE_S3_USE_SSL": "maybe",
			"LIVERY_API_MAX_HEADER_BYTES": "lots", "LIVERY_STORE_DRIVER": "floppy", "LIVERY_API_ADDR": ":8080",
			"LIVERY_REDIS_PASSWORD_FILE": "/nonexistent/pw",
		}, want: []string{"LIVERY_PROXY_CONNECT_TIMEOUT: must be a duration", "LIVERY_STORE_S3_USE_SSL: must be true or false",
			"LIVERY_API_MAX_HEADER_BYTES: must be an integer", "store.driver: must be dir or s3",
			"api.addr: must differ from console.addr", "redis.password_file: cannot read secret file"}},
		{name: "partner api and tenant extensions", yaml: `
security: {master_key_file: /nonexistent/key}
partner_api: {create_rate: 0, phone_limit: 1000, notifier: {kind: webhook, url: "ftp://sms"}}
tenants:
  - id: a1
    name: {zh: 甲, en: A}
    hosts: [a.example]
    upstream: "http://u"
    xaccount_type: "bad\u0001"
    provisioner: {kind: http, url: ""}
    risk: {per_device: "3/1h", per_address: "lots", per_partner: "0/1h"}
  - {id: b1, name: {zh: 乙, en: B}, hosts: [b.example], upstream: "http://u", provisioner: {kind: magic}}
`, want: []string{"security.master_key_file: cannot read secret file", "partner_api.create_rate: must be between",
			"partner_api.phone_limit: must be between", "partner_api.notifier.url: must be an absolute http(s) URL",
			"tenants[0].xaccount_type: must not contain control", "tenants[0].provisioner.url: must be an absolute",
			"tenants[0].risk.per_address: must be N/duration", "tenants[0].risk.per_partner: count must be a positive",
			"tenants[1].provisioner.kind: must be builtin or http"}},
		{name: "bad master key", yaml: string(mustDefault(t)), env: map[string]string{"LIVERY_SECURITY_MASTER_KEY": "c2hvcnQ="},
			want: []string{"security.master_key: must decode to 32 bytes, got 5"}},
		{name: "listener and proxy limits", yaml: `
console: {addr: "nonsense", max_header_bytes: 10, write_buffer_bytes: 100}
runtime: {gc_percent: 10, memory_limit_mb: -1}
proxy: {connect_timeout: 0s, trusted_proxies: [10.0.0.1]}
redis: {url: "http://r", addrs: [r1]}
tenants: [{id: a1, name: {zh: 甲, en: A}, hosts: [a.example], upstream: "https://u"}]
`, want: []string{"console.addr: must be host:port", "console.max_header_bytes", "console.write_buffer_bytes: must be between",
			"runtime.gc_percent: must be between 50 and 10000, got 10", "runtime.memory_limit_mb: must not be negative", "proxy.connect_timeout: must be positive",
			"proxy.trusted_proxies[0]: must be a CIDR", "redis: set one of url (standalone), addrs (cluster)", "redis.url: scheme must be", "redis.addrs[0]: must be host:port"}},
		{name: "log batching out of range", yaml: `
log: {level: loud, format: xml, buffer_bytes: 100, flush_interval: 1h}
tenants: [{id: a1, name: {zh: 甲, en: A}, hosts: [a.example], upstream: "https://u"}]
`, want: []string{"log.level: must be one of", "log.format: must be json or text",
			"log.buffer_bytes: must be 0 (one write per line) or between 4096 and 16777216",
			"log.flush_interval: must be between 10ms and 1m"}},
		{name: "log flush interval too short", yaml: string(mustDefault(t)), env: map[string]string{
			"LIVERY_LOG_FLUSH_INTERVAL": "1ms"}, want: []string{"log.flush_interval: must be between 10ms and 1m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, problems := Parse([]byte(tt.yaml), envMap(tt.env))
			if cfg != nil {
				t.Fatalf("bad input accepted: %+v", cfg)
			}
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
			}
			joined := strings.Join(all, "\n")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("missing problem %q in:\n%s", w, joined)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv)
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("want ValidationError naming the file, got %v", err)
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Console.Example.", "console.example"},
		{"localhost:8080", "localhost:8080"},
		{"127.0.0.1", "127.0.0.1"},
	}
	for _, tt := range tests {
		if got, err := NormalizeHost(tt.in); err != nil || got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a b", "-a.example", "a.example:0", "a.example:x", "a_b.example"} {
		if _, err := NormalizeHost(bad); err == nil {
			t.Errorf("NormalizeHost(%q) accepted", bad)
		}
	}
}

// TestS3CredentialsChainValid: the chain needs no keys in the file or the
// environment; static (the default) still does.
func TestS3CredentialsChainValid(t *testing.T) {
	base := "store: {driver: s3, s3: {endpoint: \"m:9000\", bucket: livery%s}}\nredis: {url: \"redis://r:6379\"}\n" +
		"tenants: [{id: a1, name: {zh: 甲, en: A}, hosts: [a.example], upstream: \"http://u\"}]\n"
	noEnv := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		extra string
		ok    bool
	}{{", credentials: chain", true}, {"", false}, {", credentials: static", false}} {
		_, probs := Parse([]byte(fmt.Sprintf(base, tc.extra)), noEnv)
		var s3 []Problem
		for _, p := range probs {
			if strings.HasPrefix(p.Path, "store.s3") {
				s3 = append(s3, p)
			}
		}
		if (len(s3) == 0) != tc.ok {
			t.Errorf("credentials%q: store.s3 problems %v, want ok=%v", tc.extra, s3, tc.ok)
		}
	}
}
