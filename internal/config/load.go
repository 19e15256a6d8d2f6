package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/livery/livery/configs"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "LIVERY_"

// Problem is one configuration defect, located by its YAML path
// (tenants[2].upstream) or by the environment variable that caused it.
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Source   string // file name, or "embedded defaults"
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%s): %d problem(s)", e.Source, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// LookupEnv is the signature of os.LookupEnv, injectable for tests.
type LookupEnv func(string) (string, bool)

// Default returns the built-in defaults that every file is decoded on top of.
func Default() Config {
	return Config{
		Console: Listener{Addr: ":8080", ReadTimeout: 60 * time.Second, WriteTimeout: 0,
			IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10, BodyLimit: 256 << 10,
			WriteBufferBytes: 16 << 10},
		API: Listener{Addr: ":8081", ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
			IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10, BodyLimit: 1 << 20,
			WriteBufferBytes: 4 << 10},
		Ops:      Ops{Addr: "127.0.0.1:8082"},
		Shutdown: Shutdown{DrainDelay: 5 * time.Second, Timeout: 20 * time.Second},
		Log:      Log{Level: "info", Format: "json", BufferBytes: 64 << 10, FlushInterval: time.Second},
		Runtime:  Runtime{GCPercent: 400},
		Store:    Store{Driver: "dir", Dir: DirStore{Path: "./data"}, S3: S3Store{Region: "us-east-1", Credentials: "static"}, Timeout: 5 * time.Second},
		Proxy: Proxy{ConnectTimeout: 5 * time.Second, ResponseHeaderTimeout: 30 * time.Second,
			IdleConnTimeout: 90 * time.Second, MaxConnsPerHost: 4096},
		Partner: PartnerAPI{CheckIdentityRate: 5, SendCodeRate: 10, CreateRate: 10, QueryRate: 20,
			PhoneLimit: 5, KeyCacheTTL: 10 * time.Second, Notifier: Notifier{Kind: "log"}, AuthFailureLimit: "20/1m"},
		Sessions:    Sessions{IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour, CookieSecure: true, CacheEntries: 100_000, LoginRate: "30/1m"},
		Identity:    Identity{AssertionTTL: 60 * time.Second},
		Staff:       Staff{RolesClaim: "roles", TenantClaim: "tenant"},
		Branding:    Branding{Notify: BrandingNotify{Kind: "log", Timeout: 5 * time.Second, MaxAttempts: 5}},
		Delegation:  Delegation{SessionTTL: time.Hour, RequestTTL: 7 * 24 * time.Hour},
		TenantTable: TenantTable{Refresh: 10 * time.Second},
	}
}

// Load reads the configuration file at path (the embedded defaults when path
// is empty), applies environment overrides from env (os.LookupEnv when nil),
// reads secret files and validates the result.
//
// Any defect — unreadable file, malformed YAML, unknown keys, secrets written
// in the file, unparsable overrides, invalid values — is reported in one
// *ValidationError listing all of them; no partial Config is returned.
func Load(path string, env LookupEnv) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	source, data := "embedded defaults", configs.Default
	if path != "" {
		source = path
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, &ValidationError{Source: source, Problems: []Problem{{Path: "file", Msg: err.Error()}}}
		}
		data = b
	}
	cfg, problems := Parse(data, env)
	if len(problems) > 0 {
		return nil, &ValidationError{Source: source, Problems: problems}
	}
	return cfg, nil
}

// Parse is Load without the file system: it decodes data, applies overrides
// and validates, returning every problem found.
func Parse(data []byte, env LookupEnv) (*Config, []Problem) {
	cfg := Default()
	var problems []Problem
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				problems = append(problems, Problem{Path: "yaml", Msg: msg})
			}
		} else {
			// A syntax error stops decoding; nothing further is meaningful.
			return nil, []Problem{{Path: "yaml", Msg: err.Error()}}
		}
	}
	problems = append(problems, checkNoFileSecrets(&cfg)...)
	problems = append(problems, applyEnv(reflect.ValueOf(&cfg).Elem(), "", env)...)
	problems = append(problems, readSecretFiles(&cfg)...)
	problems = append(problems, Validate(&cfg)...)
	if len(problems) > 0 {
		return nil, problems
	}
	return &cfg, nil
}

// checkNoFileSecrets refuses secrets written in the configuration file.
func checkNoFileSecrets(cfg *Config) []Problem {
	var out []Problem
	walkLeaves(reflect.ValueOf(cfg).Elem(), "", func(path string, f reflect.StructField, v reflect.Value) {
		if f.Tag.Get("secret") == "true" && !v.IsZero() {
			out = append(out, Problem{Path: path, Msg: fmt.Sprintf(
				"secrets must not be written in the configuration file; set %s or %s_file", envName(path), path)})
		}
	})
	if u := cfg.Redis.URL; strings.Contains(u, "@") && strings.Contains(u[:strings.Index(u, "@")], ":") {
		out = append(out, Problem{Path: "redis.url", Msg: "must not contain a password; set LIVERY_REDIS_PASSWORD or redis.password_file"})
	}
	return out
}

// readSecretFiles loads secrets named by *_file settings.
func readSecretFiles(cfg *Config) []Problem {
	var out []Problem
	load := func(path, file string, dst *string) {
		if file == "" {
			return
		}
		if *dst != "" {
			out = append(out, Problem{Path: path, Msg: "set both inline (environment) and as a file; choose one"})
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			out = append(out, Problem{Path: path, Msg: "cannot read secret file: " + err.Error()})
			return
		}
		*dst = strings.TrimRight(string(b), "\r\n")
	}
	load("redis.password_file", cfg.Redis.PasswordFile, &cfg.Redis.Password)
	load("store.s3.secret_key_file", cfg.Store.S3.SecretKeyFile, &cfg.Store.S3.SecretKey)
	load("security.master_key_file", cfg.Security.MasterKeyFile, &cfg.Security.MasterKey)
	load("partner_api.notifier.token_file", cfg.Partner.Notifier.TokenFile, &cfg.Partner.Notifier.Token)
	load("staff.oidc.client_secret_file", cfg.Staff.OIDC.ClientSecretFile, &cfg.Staff.OIDC.ClientSecret)
	if o := cfg.Identity.CloudSignIn; o != nil {
		load("identity.cloud_sign_in.client_secret_file", o.ClientSecretFile, &o.ClientSecret)
	}
	load("branding.notify.secret_file", cfg.Branding.Notify.SecretFile, &cfg.Branding.Notify.Secret)
	for i := range cfg.Branding.Notify.Tenants {
		w := &cfg.Branding.Notify.Tenants[i]
		load(fmt.Sprintf("branding.notify.tenants[%d].secret_file", i), w.SecretFile, &w.Secret)
	}
	for i := range cfg.Tenants {
		pv := &cfg.Tenants[i].Provisioner
		load(fmt.Sprintf("tenants[%d].provisioner.token_file", i), pv.TokenFile, &pv.Token)
		if o := cfg.Tenants[i].OIDC; o != nil {
			load(fmt.Sprintf("tenants[%d].oidc.client_secret_file", i), o.ClientSecretFile, &o.ClientSecret)
		}
	}
	return out
}
