package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/fieldcheck"
)

var (
	tenantIDPattern = fieldcheck.TenantIDPattern
	bucketPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// Validate checks a decoded configuration and returns every problem found.
func Validate(c *Config) []Problem {
	var p problems
	p.listener("console", c.Console)
	p.listener("api", c.API)
	if c.Runtime.GCPercent < 50 || c.Runtime.GCPercent > 10000 {
		p.add("runtime.gc_percent", "must be between 50 and 10000, got %d", c.Runtime.GCPercent)
	}
	if c.Runtime.MemoryLimitMB < 0 {
		p.add("runtime.memory_limit_mb", "must not be negative (0: no limit)")
	}
	if c.Console.Addr != "" && c.Console.Addr == c.API.Addr {
		p.add("api.addr", "must differ from console.addr")
	}
	p.ops(c)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level", "must be one of debug, info, warn, error")
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		p.add("log.format", "must be json or text")
	}
	if b := c.Log.BufferBytes; b != 0 && (b < 4<<10 || b > 16<<20) {
		p.add("log.buffer_bytes", "must be 0 (one write per line) or between 4096 and 16777216")
	}
	if b, f := c.Log.BufferBytes, c.Log.FlushInterval; b != 0 && (f < 10*time.Millisecond || f > time.Minute) {
		p.add("log.flush_interval", "must be between 10ms and 1m when log.buffer_bytes is set")
	}
	p.redis(c.Redis)
	if c.Redis.Embedded() && c.Store.Driver == "s3" && !c.Redis.AllowEmbeddedWithS3 {
		p.add("redis.url", "is required with the s3 store: with the embedded Redis every instance keeps its own sessions, "+
			"rate limits and caches, so instances sharing the bucket would disagree (set redis.url or redis.addrs; "+
			"for a single instance, redis.allow_embedded_with_s3: true)")
	}
	p.store(c.Store)
	p.proxy(c.Proxy)
	p.security(c)
	p.partner(c.Partner)
	p.identity(c)
	p.branding(c.Branding)
	p.brandingNotify(c)
	if r := c.TenantTable.Refresh; r < time.Second || r > 10*time.Minute {
		p.add("tenant_table.refresh", "must be between 1s and 10m, got %s", r)
	}
	p.tenants(c.Tenants)
	return p
}

func (p *problems) security(c *Config) {
	if c.Security.MasterKey != "" {
		if _, err := MasterKey(c.Security.MasterKey); err != nil {
			p.add("security.master_key", "%v", err)
		}
	} else if c.Store.Driver == "s3" {
		p.add("security.master_key", "is required with the s3 store (LIVERY_SECURITY_MASTER_KEY or security.master_key_file; 32 random bytes, base64)")
	}
}

// MasterKey decodes a base64 master key and checks it is 32 bytes.
func MasterKey(b64 string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("must be base64 (openssl rand -base64 32)")
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("must decode to 32 bytes, got %d", len(k))
	}
	return k, nil
}

func (p *problems) identity(c *Config) {
	if d := c.Delegation.SessionTTL; d < time.Minute || d > 12*time.Hour {
		p.add("delegation.session_ttl", "must be between 1m and 12h")
	}
	if d := c.Delegation.RequestTTL; d < time.Hour || d > 30*24*time.Hour {
		p.add("delegation.request_ttl", "must be between 1h and 720h")
	}
	if c.Sessions.IdleTimeout < time.Minute || c.Sessions.IdleTimeout > 24*time.Hour {
		p.add("sessions.idle_timeout", "must be between 1m and 24h")
	}
	if c.Sessions.MaxLifetime < c.Sessions.IdleTimeout || c.Sessions.MaxLifetime > 30*24*time.Hour {
		p.add("sessions.max_lifetime", "must be at least sessions.idle_timeout and at most 720h")
	}
	if c.Sessions.CacheEntries < 100 || c.Sessions.CacheEntries > 10_000_000 {
		p.add("sessions.cache_entries", "must be between 100 and 10000000")
	}
	if _, _, _, _, err := ParseRate(c.Sessions.LoginRate); err != nil {
		p.add("sessions.login_rate", "%v", err)
	}
	if c.Identity.AssertionTTL < 5*time.Second || c.Identity.AssertionTTL > 10*time.Minute {
		p.add("identity.assertion_ttl", "must be between 5s and 10m")
	}
	if o := c.Identity.CloudSignIn; o != nil {
		p.oidc("identity.cloud_sign_in", o.OIDC)
	}
	if c.Staff.OIDC.Issuer != "" {
		p.oidc("staff.oidc", c.Staff.OIDC)
		if err := checkHTTPURL(c.Staff.PublicURL); err != nil {
			p.add("staff.public_url", "%v (required with staff.oidc)", err)
		}
	}
	for k, v := range c.Staff.RoleMap {
		switch v {
		case authz.RoleOperator, authz.RolePartnerAdmin, authz.RoleCustomerManager:
		default:
			p.add("staff.role_map."+k, "must map to operator, partner_admin or customer_manager, got %q", v)
		}
	}
}

func (p *problems) oidc(at string, o OIDC) {
	if err := checkHTTPURL(o.Issuer); err != nil {
		p.add(at+".issuer", "%v", err)
	}
	if o.ClientID == "" {
		p.add(at+".client_id", "is required")
	}
	if o.ClientSecret == "" {
		p.add(at+".client_secret_file", "is required (a file holding the client secret), or set %s", envPath(at+".client_secret"))
	}
}

func (p *problems) partner(x PartnerAPI) {
	for name, v := range map[string]int{"check_identity_rate": x.CheckIdentityRate, "send_code_rate": x.SendCodeRate,
		"create_rate": x.CreateRate, "query_rate": x.QueryRate} {
		if v < 1 || v > 100000 {
			p.add("partner_api."+name, "must be between 1 and 100000 requests per second")
		}
	}
	if x.PhoneLimit < 1 || x.PhoneLimit > 100 {
		p.add("partner_api.phone_limit", "must be between 1 and 100")
	}
	if x.KeyCacheTTL < 0 || x.KeyCacheTTL > 5*time.Minute {
		p.add("partner_api.key_cache_ttl", "must be between 0s and 5m")
	}
	if n, _, off, ok, err := ParseRate(x.AuthFailureLimit); err != nil || off || !ok || n < 1 {
		p.add("partner_api.auth_failure_limit", "must be N/duration such as 20/1m (it cannot be off)")
	}
	switch x.Notifier.Kind {
	case "log":
	case "webhook":
		if err := checkHTTPURL(x.Notifier.URL); err != nil {
			p.add("partner_api.notifier.url", "%v", err)
		}
	default:
		p.add("partner_api.notifier.kind", "must be log or webhook, got %q", x.Notifier.Kind)
	}
}

func checkHTTPURL(raw string) error { return fieldcheck.HTTPURL(raw) }

// ParseRate parses a limit such as "3/1h" or "600/24h". "off" yields
// off=true; "" yields ok=false (use the default).
func ParseRate(s string) (n int, per time.Duration, off, ok bool, err error) {
	return fieldcheck.ParseRate(s)
}

type problems []Problem

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) listener(name string, l Listener) {
	if _, port, err := net.SplitHostPort(l.Addr); err != nil {
		p.add(name+".addr", "must be host:port (for example :8080), got %q", l.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add(name+".addr", "port must be 0-65535, got %q", port)
	}
	if l.ReadTimeout < 0 || l.WriteTimeout < 0 || l.IdleTimeout < 0 {
		p.add(name, "timeouts must not be negative")
	}
	if l.MaxHeaderBytes < 1024 || l.MaxHeaderBytes > 1<<20 {
		p.add(name+".max_header_bytes", "must be between 1024 and 1048576")
	}
	if l.WriteBufferBytes < 1024 || l.WriteBufferBytes > 1<<20 {
		p.add(name+".write_buffer_bytes", "must be between 1024 and 1048576")
	}
	if l.BodyLimit < 1024 {
		p.add(name+".body_limit", "must be at least 1024")
	}
}

func (p *problems) redis(r Redis) {
	modes := 0
	for _, set := range []bool{r.URL != "", len(r.Addrs) > 0, len(r.SentinelAddrs) > 0} {
		if set {
			modes++
		}
	}
	if modes > 1 {
		p.add("redis", "set one of url (standalone), addrs (cluster) or sentinel_addrs (sentinel), not several")
	}
	if len(r.SentinelAddrs) > 0 && r.MasterName == "" {
		p.add("redis.master_name", "is required with sentinel_addrs (the name the sentinels monitor)")
	}
	if r.MasterName != "" && len(r.SentinelAddrs) == 0 {
		p.add("redis.sentinel_addrs", "is required with master_name")
	}
	for i, a := range r.SentinelAddrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			p.add(fmt.Sprintf("redis.sentinel_addrs[%d]", i), "must be host:port, got %q", a)
		}
	}
	if r.TLS && r.URL != "" {
		p.add("redis.tls", "is for addrs and sentinel_addrs; with url, use the rediss:// scheme")
	}
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		switch {
		case err != nil:
			p.add("redis.url", "must be a URL such as redis://host:6379/0")
		case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix":
			p.add("redis.url", "scheme must be redis, rediss or unix, got %q", u.Scheme)
		case u.Scheme != "unix" && u.Host == "":
			p.add("redis.url", "must name a host")
		}
	}
	for i, a := range r.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			p.add(fmt.Sprintf("redis.addrs[%d]", i), "must be host:port, got %q", a)
		}
	}
}

// Store timeout bounds: long enough for a slow but working backend, short
// enough that a hung one is noticed before clients give up.
const (
	minStoreTimeout = 100 * time.Millisecond
	maxStoreTimeout = 2 * time.Minute
)

func (p *problems) store(s Store) {
	if s.Timeout < minStoreTimeout || s.Timeout > maxStoreTimeout {
		p.add("store.timeout", "must be between %s and %s, got %s", minStoreTimeout, maxStoreTimeout, s.Timeout)
	}
	switch s.Driver {
	case "dir":
		if strings.TrimSpace(s.Dir.Path) == "" {
			p.add("store.dir.path", "must not be empty")
		}
	case "s3":
		if s.S3.Endpoint == "" {
			p.add("store.s3.endpoint", "is required for the s3 driver")
		} else if strings.Contains(s.S3.Endpoint, "://") || strings.Contains(s.S3.Endpoint, "/") {
			p.add("store.s3.endpoint", "must be host[:port] without scheme or path (use store.s3.use_ssl), got %q", s.S3.Endpoint)
		}
		if !bucketPattern.MatchString(s.S3.Bucket) {
			p.add("store.s3.bucket", "must be a valid bucket name (3-63 lowercase letters, digits, '.', '-'), got %q", s.S3.Bucket)
		}
		switch s.S3.Credentials {
		case "static":
			if s.S3.AccessKey == "" {
				p.add("store.s3.access_key", "is required for the s3 driver with static credentials (LIVERY_STORE_S3_ACCESS_KEY; or store.s3.credentials: chain)")
			}
			if s.S3.SecretKey == "" {
				p.add("store.s3.secret_key", "is required for the s3 driver with static credentials (LIVERY_STORE_S3_SECRET_KEY or store.s3.secret_key_file)")
			}
		case "chain":
			if s.S3.AccessKey != "" || s.S3.SecretKey != "" {
				p.add("store.s3.credentials", "is chain (environment, shared file, IAM role): remove store.s3.access_key and secret_key, or use static")
			}
		default:
			p.add("store.s3.credentials", "must be static or chain, got %q", s.S3.Credentials)
		}
	default:
		p.add("store.driver", "must be dir or s3, got %q", s.Driver)
	}
}

func (p *problems) proxy(x Proxy) {
	if x.ConnectTimeout <= 0 {
		p.add("proxy.connect_timeout", "must be positive")
	}
	if x.ResponseHeaderTimeout <= 0 {
		p.add("proxy.response_header_timeout", "must be positive")
	}
	if x.IdleConnTimeout <= 0 {
		p.add("proxy.idle_conn_timeout", "must be positive")
	}
	if x.MaxConnsPerHost < 1 {
		p.add("proxy.max_conns_per_host", "must be at least 1")
	}
	for i, c := range x.TrustedProxies {
		if _, _, err := net.ParseCIDR(c); err != nil {
			p.add(fmt.Sprintf("proxy.trusted_proxies[%d]", i), "must be a CIDR such as 10.0.0.0/8, got %q", c)
		}
	}
}

func (p *problems) tenants(ts []TenantSpec) {
	// No tenant in the file is fine: they may all live in the store,
	// created at runtime (docs/partners.md).
	ids := map[string]int{}
	hosts := map[string]int{}
	for i, t := range ts {
		at := fmt.Sprintf("tenants[%d]", i)
		if !tenantIDPattern.MatchString(t.ID) {
			p.add(at+".id", "must match %s, got %q", tenantIDPattern, t.ID)
		} else if j, dup := ids[t.ID]; dup {
			p.add(at+".id", "duplicates tenants[%d].id %q", j, t.ID)
		} else {
			ids[t.ID] = i
		}
		switch t.Managed {
		case "", "file", "store":
		default:
			p.add(at+".managed", "must be file or store, got %q", t.Managed)
		}
		p.name(at+".name.zh", t.Name.ZH)
		p.name(at+".name.en", t.Name.EN)
		if len(t.Hosts) == 0 {
			p.add(at+".hosts", "at least one console host is required")
		}
		for k, h := range t.Hosts {
			hp := fmt.Sprintf("%s.hosts[%d]", at, k)
			norm, err := NormalizeHost(h)
			if err != nil {
				p.add(hp, "%v", err)
				continue
			}
			if j, dup := hosts[norm]; dup {
				p.add(hp, "host %q is already used by tenants[%d]", norm, j)
				continue
			}
			hosts[norm] = i
		}
		if t.XAccountType != "" {
			if err := checkPlain(t.XAccountType, 64); err != nil {
				p.add(at+".xaccount_type", "%v", err)
			}
		}
		switch t.Provisioner.Kind {
		case "", "builtin":
		case "http":
			if err := checkHTTPURL(t.Provisioner.URL); err != nil {
				p.add(at+".provisioner.url", "%v", err)
			}
		default:
			p.add(at+".provisioner.kind", "must be builtin or http, got %q", t.Provisioner.Kind)
		}
		for name, v := range map[string]string{"per_device": t.Risk.PerDevice, "per_address": t.Risk.PerAddress, "per_partner": t.Risk.PerPartner} {
			if _, _, _, _, err := ParseRate(v); err != nil {
				p.add(at+".risk."+name, "%v", err)
			}
		}
		if _, _, off, _, _ := ParseRate(strings.TrimSpace(t.Risk.PerDevice)); off && t.Risk.RequireDevice {
			p.add(at+".risk.require_device", "requires the per-device limit: per_device is off")
		}
		if t.OIDC != nil {
			p.oidc(at+".oidc", t.OIDC.OIDC)
		}
		if t.Upstream == "" {
			p.add(at+".upstream", "is required: the absolute http(s) URL of the upstream console")
		} else if err := checkUpstream(t.Upstream); err != nil {
			p.add(at+".upstream", "%v", err)
		}
	}
}

func (p *problems) name(path, s string) {
	if err := fieldcheck.Name(s); err != nil {
		p.add(path, "%v", err)
	}
}

func checkPlain(s string, max int) error { return fieldcheck.Plain(s, max) }

func checkUpstream(raw string) error { return fieldcheck.Upstream(raw) }

// NormalizeHost lower-cases a console host name, drops a trailing dot and
// checks its syntax. A port may be given (host:port) to match only that port.
func NormalizeHost(h string) (string, error) { return fieldcheck.NormalizeHost(h) }

func (p *problems) branding(b Branding) {
	if b.Timezone != "" {
		if _, err := time.LoadLocation(b.Timezone); err != nil {
			p.add("branding.timezone", "unknown time zone %q", b.Timezone)
		}
	}
	for _, l := range []struct {
		name string
		days []string
	}{{"holidays", b.Holidays}, {"workdays", b.Workdays}} {
		name := l.name
		for i, d := range l.days {
			if _, err := time.Parse("2006-01-02", d); err != nil {
				p.add(fmt.Sprintf("branding.%s[%d]", name, i), "must be a date YYYY-MM-DD, got %q", d)
			}
		}
	}
}

// Shutdown bounds: a drain longer than a minute or a timeout longer than
// ten minutes outlasts any orchestrator's grace period.
const (
	maxDrainDelay      = time.Minute
	maxShutdownTimeout = 10 * time.Minute
)

// ops checks the operations listener and the shutdown settings.
func (p *problems) ops(c *Config) {
	if _, port, err := net.SplitHostPort(c.Ops.Addr); err != nil {
		p.add("ops.addr", "must be host:port (for example 127.0.0.1:8082), got %q", c.Ops.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add("ops.addr", "port must be 0-65535, got %q", port)
	}
	if c.Ops.Addr != "" && (c.Ops.Addr == c.Console.Addr || c.Ops.Addr == c.API.Addr) {
		p.add("ops.addr", "must differ from console.addr and api.addr")
	}
	if d := c.Shutdown.DrainDelay; d < 0 || d > maxDrainDelay {
		p.add("shutdown.drain_delay", "must be between 0s and %s, got %s", maxDrainDelay, d)
	}
	if d := c.Shutdown.Timeout; d < time.Second || d > maxShutdownTimeout {
		p.add("shutdown.timeout", "must be between 1s and %s, got %s", maxShutdownTimeout, d)
	}
}
