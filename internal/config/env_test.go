package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEnvOverridesEverySection: the sections that could not be set from
// the environment before (staff.oidc, staff.role_map, branding.console,
// the tenant list, OIDC client secrets) can now, each by its YAML path.
func TestEnvOverridesEverySection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		check func(c *Config) any // returns the value read
		want  any
	}{
		{"staff oidc issuer", map[string]string{"LIVERY_STAFF_OIDC_ISSUER": "https://idp.example", "LIVERY_STAFF_OIDC_CLIENT_ID": "staff",
			"LIVERY_STAFF_OIDC_CLIENT_SECRET": "s3", "LIVERY_STAFF_PUBLIC_URL": "https://admin.example"},
			func(c *Config) any {
				return c.Staff.OIDC.Issuer + " " + c.Staff.OIDC.ClientID + " " + c.Staff.OIDC.ClientSecret
			}, "https://idp.example staff s3"},
		{"staff oidc scopes", map[string]string{"LIVERY_STAFF_OIDC_SCOPES": "openid, groups"},
			func(c *Config) any { return c.Staff.OIDC.Scopes }, []string{"openid", "groups"}},
		{"staff role map", map[string]string{"LIVERY_STAFF_ROLE_MAP": "cloud-ops=operator, acme-admins=partner_admin"},
			func(c *Config) any { return c.Staff.RoleMap }, map[string]string{"cloud-ops": "operator", "acme-admins": "partner_admin"}},
		{"branding console creates the section", map[string]string{"LIVERY_BRANDING_CONSOLE_NAV": "#top", "LIVERY_BRANDING_CONSOLE_MENUS_INFO": ".info"},
			func(c *Config) any {
				return c.Branding.Console != nil && c.Branding.Console.Nav == "#top" && c.Branding.Console.Menus.Info == ".info"
			}, true},
		{"branding console absent stays absent", map[string]string{},
			func(c *Config) any { return c.Branding.Console == nil }, true},
		{"tenant by index", map[string]string{"LIVERY_TENANTS_0_UPSTREAM": "http://127.0.0.1:9999", "LIVERY_TENANTS_0_HOSTS": "a.test,b.test"},
			func(c *Config) any { return c.Tenants[0].Upstream + " " + strings.Join(c.Tenants[0].Hosts, " ") }, "http://127.0.0.1:9999 a.test b.test"},
		{"tenant oidc client secret", map[string]string{"LIVERY_TENANTS_0_OIDC_ISSUER": "https://idp.example", "LIVERY_TENANTS_0_OIDC_CLIENT_ID": "livery",
			"LIVERY_TENANTS_0_OIDC_CLIENT_SECRET": "t-secret"},
			func(c *Config) any { return c.Tenants[0].OIDC != nil && c.Tenants[0].OIDC.ClientSecret == "t-secret" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, problems := Parse(mustDefault(t), envMap(tc.env))
			if len(problems) > 0 {
				t.Fatalf("problems: %v", problems)
			}
			if got := tc.check(cfg); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEnvOverrideErrors(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("file-secret\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"role map without =", map[string]string{"LIVERY_STAFF_ROLE_MAP": "cloud-ops"}, "LIVERY_STAFF_ROLE_MAP: must be key=value pairs"},
		{"role map empty role", map[string]string{"LIVERY_STAFF_ROLE_MAP": "cloud-ops="}, "LIVERY_STAFF_ROLE_MAP: must be key=value pairs"},
		{"secret in env and file", map[string]string{"LIVERY_STAFF_OIDC_ISSUER": "https://idp.example", "LIVERY_STAFF_OIDC_CLIENT_ID": "staff",
			"LIVERY_STAFF_PUBLIC_URL": "https://admin.example", "LIVERY_STAFF_OIDC_CLIENT_SECRET": "x", "LIVERY_STAFF_OIDC_CLIENT_SECRET_FILE": secret},
			"staff.oidc.client_secret_file: set both inline (environment) and as a file"},
		{"tenant index past the list", map[string]string{"LIVERY_TENANTS_1_UPSTREAM": "http://x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := Parse(mustDefault(t), envMap(tc.env))
			var msgs []string
			for _, p := range problems {
				msgs = append(msgs, p.String())
			}
			all := strings.Join(msgs, "\n")
			if tc.want == "" {
				if len(problems) > 0 {
					t.Fatalf("problems: %s", all)
				}
				return
			}
			if !strings.Contains(all, tc.want) {
				t.Fatalf("problems %q, want %q", all, tc.want)
			}
		})
	}
}

func TestUnknownEnv(t *testing.T) {
	cfg, problems := Parse(mustDefault(t), noEnv)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string
	}{
		{"settings and tools are known", []string{"LIVERY_STORE_S3_BUCKET=b", "LIVERY_STAFF_ROLE_MAP=a=b", "LIVERY_TENANTS_0_UPSTREAM=x",
			"LIVERY_STAFF_OIDC_CLIENT_SECRET=s", "LIVERY_TENANTS_0_OIDC_CLIENT_SECRET=s", "LIVERY_BRANDING_CONSOLE_NAV=n", "LIVERY_CONFIG=/etc/l.yaml",
			"LIVERY_MINIO=/bin/minio", "LIVERY_OBJSTORE_CHILD_ID=1", "HOME=/root", "PATH=/bin"}, nil},
		{"a misspelt setting", []string{"LIVERY_STORE_S3_BUCKT=b", "LIVERY_API_ADDR=:1"}, []string{"LIVERY_STORE_S3_BUCKT"}},
		{"a tenant past the list", []string{"LIVERY_TENANTS_1_UPSTREAM=x"}, []string{"LIVERY_TENANTS_1_UPSTREAM"}},
		{"a section, not a leaf", []string{"LIVERY_STAFF_OIDC=x", "LIVERY_TENANTS=x"}, []string{"LIVERY_STAFF_OIDC", "LIVERY_TENANTS"}},
		{"sorted, once", []string{"LIVERY_ZZ=1", "LIVERY_AA=1", "LIVERY_ZZ=2"}, []string{"LIVERY_AA", "LIVERY_ZZ"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnknownEnv(cfg, tc.environ); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	// The names are derived from the whole Config: a few spot checks.
	names := EnvNames(cfg)
	for _, n := range []string{"LIVERY_STAFF_OIDC_ISSUER", "LIVERY_STAFF_ROLE_MAP", "LIVERY_BRANDING_CONSOLE_MENUS_INFO",
		"LIVERY_BRANDING_CONSOLE_DEFAULT_NAV_COLOR", "LIVERY_TENANTS_0_RISK_PER_DEVICE", "LIVERY_TENANTS_0_OIDC_ACCOUNT_CLAIM", "LIVERY_PARTNER_API_NOTIFIER_TOKEN"} {
		if !slices.Contains(names, n) {
			t.Errorf("%s is not an override", n)
		}
	}
	if cfg.Branding.Console != nil || cfg.Tenants[0].OIDC != nil {
		t.Error("EnvNames allocated a section of the configuration")
	}
}

// TestEnvSecretsOfListEntries: a tenant webhook's secret and a tenant's
// provisioner token come from the environment by index; without them the
// problem names the variable.
func TestEnvSecretsOfListEntries(t *testing.T) {
	yaml := []byte("tenants: [{id: acme, name: {zh: 甲, en: A}, hosts: [a.example], upstream: http://127.0.0.1:1}]\n" +
		"branding: {notify: {kind: webhook, tenants: [{tenant: acme, url: https://hooks.example/x}]}}\n")
	cfg, problems := Parse(yaml, envMap(map[string]string{"LIVERY_BRANDING_NOTIFY_TENANTS_0_SECRET": "w-secret",
		"LIVERY_TENANTS_0_PROVISIONER_TOKEN": "p-token"}))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if cfg.Branding.Notify.Tenants[0].Secret != "w-secret" || cfg.Tenants[0].Provisioner.Token != "p-token" {
		t.Fatalf("secrets not read: %+v %+v", cfg.Branding.Notify.Tenants[0], cfg.Tenants[0].Provisioner)
	}
	_, problems = Parse(yaml, noEnv)
	if len(problems) != 1 || !strings.Contains(problems[0].String(), "LIVERY_BRANDING_NOTIFY_TENANTS_0_SECRET") {
		t.Fatalf("problems %v, want one naming LIVERY_BRANDING_NOTIFY_TENANTS_0_SECRET", problems)
	}
}
