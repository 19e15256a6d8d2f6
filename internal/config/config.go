// Package config loads, overrides and validates Livery's configuration.
//
// A configuration is one YAML file (the embedded configs/livery.yaml when no
// file is given) overlaid with LIVERY_* environment variables. Every setting
// has an environment name derived from its YAML path: store.s3.bucket is
// LIVERY_STORE_S3_BUCKET, an entry of a list the file has by its index
// (tenants[0].oidc.client_id is LIVERY_TENANTS_0_OIDC_CLIENT_ID), a string
// map as key=value pairs (LIVERY_STAFF_ROLE_MAP=cloud-ops=operator). The
// environment cannot add list entries (tenants, branding.notify.tenants):
// they come from the file. Secret settings (tagged secret:"true", and the
// client, provisioner and webhook secrets that have no file key) may not be
// written in the file; they come from their environment variable or from a
// file named by the matching *_file setting or by <NAME>_FILE in the
// environment. UnknownEnv names LIVERY_* variables that are no setting.
//
// Load reports every problem it finds at once as a *ValidationError.
package config

import "time"

// Config is the whole Livery configuration.
type Config struct {
	Console  Listener   `yaml:"console"`
	API      Listener   `yaml:"api"`
	Ops      Ops        `yaml:"ops"`
	Shutdown Shutdown   `yaml:"shutdown"`
	Log      Log        `yaml:"log"`
	Redis    Redis      `yaml:"redis"`
	Store    Store      `yaml:"store"`
	Proxy    Proxy      `yaml:"proxy"`
	Security Security   `yaml:"security"`
	Partner  PartnerAPI `yaml:"partner_api"`
	Sessions Sessions   `yaml:"sessions"`
	Identity Identity   `yaml:"identity"`
	Staff    Staff      `yaml:"staff"`
	Authz    Authz      `yaml:"authz"`
	Branding Branding   `yaml:"branding"`
	// Delegation is delegated operations (代客运维).
	Delegation Delegation `yaml:"delegation"`
	Runtime    Runtime    `yaml:"runtime"`
	// TenantTable tunes each instance's table of tenants (tenants/live).
	TenantTable TenantTable  `yaml:"tenant_table"`
	Tenants     []TenantSpec `yaml:"tenants"`
}

// TenantTable tunes the per-instance tenant table. Changes reach every
// instance by a Redis notice within milliseconds; Refresh is the safety
// net for a missed notice (the longest a change can take when Redis
// pub/sub is down).
type TenantTable struct {
	Refresh time.Duration `yaml:"refresh"`
}

// Ops configures the operations listener: /metrics, /healthz, /readyz and,
// when Pprof is on, /debug/pprof/. It is meant for the operator's network
// only (loopback by default); nothing on it is authenticated.
type Ops struct {
	Addr string `yaml:"addr"`
	// Pprof serves Go's profiler under /debug/pprof/ (off by default: a
	// profile reveals the process's internals and costs CPU while taken).
	Pprof bool `yaml:"pprof"`
}

// Shutdown configures graceful shutdown on SIGTERM or interrupt: /readyz
// answers 503 at once, for DrainDelay the listeners keep serving (so load
// balancers notice and stop sending), then they close and requests in
// flight get up to Timeout to finish.
type Shutdown struct {
	DrainDelay time.Duration `yaml:"drain_delay"`
	Timeout    time.Duration `yaml:"timeout"`
}

// Runtime tunes the Go garbage collector. The GOGC and GOMEMLIMIT
// environment variables, when set, take precedence over these settings.
type Runtime struct {
	// GCPercent is the heap growth that triggers a collection (GOGC). A
	// gateway's live heap is small and its garbage is per request: a
	// larger value trades a little memory for much less collector CPU.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimitMB is a soft memory limit (GOMEMLIMIT) in MiB; as the
	// process nears it the collector runs more often. 0: none.
	MemoryLimitMB int `yaml:"memory_limit_mb"`
}

// Delegation configures delegated operations (docs/delegation.md).
type Delegation struct {
	// SessionTTL bounds a delegated session (staff operating a customer's
	// console); it never outlasts the grant.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// RequestTTL is how long a grant request waits for the customer.
	RequestTTL time.Duration `yaml:"request_ttl"`
}

// Sessions configures browser sessions (customers on the console
// listener, staff on the API listener).
type Sessions struct {
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	MaxLifetime time.Duration `yaml:"max_lifetime"`
	// CookieSecure marks cookies Secure with the __Host- prefix and makes
	// OIDC redirect URLs https. Turn off only for plain-HTTP development.
	CookieSecure bool `yaml:"cookie_secure"`
	// CacheEntries bounds each instance's in-process session cache.
	CacheEntries int `yaml:"cache_entries"`
	// LoginRate bounds sign-in starts per client address ("N/duration").
	LoginRate string `yaml:"login_rate"`
}

// Branding configures the branding review workflow.
type Branding struct {
	// Timezone of the review team (IANA name) for due dates; default UTC.
	Timezone string `yaml:"timezone"`
	// Holidays are non-working weekdays and Workdays working weekend days
	// ("YYYY-MM-DD"), for the 3-working-day review due date.
	Holidays []string `yaml:"holidays"`
	Workdays []string `yaml:"workdays"`
	// AllowLoopbackLinks accepts http:// links to loopback hosts in
	// branding documents (development only).
	AllowLoopbackLinks bool `yaml:"allow_loopback_links"`
	// CloudLogo is the cloud's own logo shown beside the partner's (dual
	// brand): same-origin paths or https URLs; alt texts name the cloud.
	CloudLogo CloudLogo `yaml:"cloud_logo"`
	// Console locates the upstream console's areas by CSS selector. Absent:
	// the demo console's selectors. Present: exactly these (an empty
	// selector means the console has no such area).
	Console *ConsoleAreas `yaml:"console"`
	// Notify tells partners about approvals, rejections and rollbacks.
	Notify BrandingNotify `yaml:"notify"`
}

// BrandingNotify configures how partners learn the outcome of a review:
// "log" (the default: events are written to the log) or "webhook" (signed
// JSON POSTed in the background to the tenant's entry in Tenants, else to
// URL; a tenant with neither is only logged).
type BrandingNotify struct {
	Kind string `yaml:"kind"`
	URL  string `yaml:"url"`
	// Secret signs the events sent to URL (HMAC-SHA256).
	Secret     string `yaml:"secret" secret:"true"`
	SecretFile string `yaml:"secret_file"`
	// Timeout bounds one attempt; MaxAttempts counts the first.
	Timeout     time.Duration `yaml:"timeout"`
	MaxAttempts int           `yaml:"max_attempts"`
	// Tenants gives tenants their own webhook and secret.
	Tenants []TenantWebhook `yaml:"tenants"`
}

// TenantWebhook is one tenant's branding webhook; its secret is read from
// SecretFile.
type TenantWebhook struct {
	Tenant     string `yaml:"tenant"`
	URL        string `yaml:"url"`
	SecretFile string `yaml:"secret_file"`
	Secret     string `yaml:"-" env:"secret"` // environment, or read from SecretFile
}

// ConsoleAreas are CSS selectors of the upstream console.
type ConsoleAreas struct {
	Menus struct {
		Info      string `yaml:"info"`
		Resources string `yaml:"resources"`
		User      string `yaml:"user"`
		Custom    string `yaml:"custom"`
	} `yaml:"menus"`
	Ops struct {
		Announcements string `yaml:"announcements"`
		Activities    string `yaml:"activities"`
		Recommended   string `yaml:"recommended"`
	} `yaml:"ops"`
	Nav             string `yaml:"nav"`  // navigation bar: gets the partner's colour
	Logo            string `yaml:"logo"` // the console's own logo: hidden (the chrome shows it)
	DefaultNavColor string `yaml:"default_nav_color"`
}

// CloudLogo locates the cloud's logo per locale.
type CloudLogo struct {
	URLZH string `yaml:"url_zh"`
	URLEN string `yaml:"url_en"`
	AltZH string `yaml:"alt_zh"`
	AltEN string `yaml:"alt_en"`
}

// Authz configures authorization.
type Authz struct {
	// PolicyFile is a Casbin policy CSV, watched and reloaded on change.
	// Empty: the embedded configs/authz/policy.csv.
	PolicyFile string `yaml:"policy_file"`
}

// Identity configures what Livery tells the upstream about the user.
type Identity struct {
	// AssertionKeys are PEM files of ECDSA P-256 private keys; the first
	// signs, all are published in the JWKS (rotation). Empty: an ephemeral
	// key is generated at start (development only).
	AssertionKeys []string      `yaml:"assertion_keys"`
	AssertionTTL  time.Duration `yaml:"assertion_ttl"`
	// CloudSignIn is the cloud's own account sign-in (an OpenID Connect
	// provider whose AccountClaim, default sub, is the cloud account id),
	// offered on every partner console for customers a partner invites:
	// they prove their existing cloud account there (docs/association.md).
	// Register <console host>/_livery/cloud/callback as its redirect URI
	// and <console host>/_livery/logged-out as its post-logout URI. Unset:
	// invited customers cannot sign in.
	CloudSignIn *TenantOIDC `yaml:"cloud_sign_in"`
}

// OIDC is a relying-party registration at an OpenID Connect provider.
type OIDC struct {
	Issuer           string   `yaml:"issuer"`
	ClientID         string   `yaml:"client_id"`
	ClientSecretFile string   `yaml:"client_secret_file"`
	ClientSecret     string   `yaml:"-" env:"client_secret"` // environment, or read from ClientSecretFile
	Scopes           []string `yaml:"scopes"`
}

// Staff configures operator and partner-staff sign-in on the API listener.
type Staff struct {
	OIDC OIDC `yaml:"oidc"`
	// PublicURL is the API listener's external base URL (redirects).
	PublicURL   string `yaml:"public_url"`
	RolesClaim  string `yaml:"roles_claim"`
	TenantClaim string `yaml:"tenant_claim"`
	// RoleMap maps claim values to roles (operator, partner_admin,
	// customer_manager); values that are already role names map to themselves.
	RoleMap map[string]string `yaml:"role_map"`
}

// Security holds the master key that seals partner secret keys at rest.
type Security struct {
	// MasterKey is 32 bytes, base64-encoded. Without one, and only with the
	// dir store, Livery generates a development key inside the store
	// directory (and says so in its log).
	MasterKey     string `yaml:"master_key" secret:"true"`
	MasterKeyFile string `yaml:"master_key_file"`
}

// PartnerAPI configures the partner-platform API on the API listener.
type PartnerAPI struct {
	// Requests per second per partner and source address, per API.
	CheckIdentityRate int `yaml:"check_identity_rate"`
	SendCodeRate      int `yaml:"send_code_rate"`
	CreateRate        int `yaml:"create_rate"`
	QueryRate         int `yaml:"query_rate"`
	// PhoneLimit is how many accounts one phone number may hold.
	PhoneLimit int `yaml:"phone_limit"`
	// KeyCacheTTL bounds how long a revoked access key stays usable on
	// instances other than the one that revoked it.
	KeyCacheTTL time.Duration `yaml:"key_cache_ttl"`
	Notifier    Notifier      `yaml:"notifier"`
	// AuthFailureLimit is the failed-authentication budget of one source
	// address ("N/duration"); once spent, its requests are refused unread.
	AuthFailureLimit string `yaml:"auth_failure_limit"`
}

// Notifier delivers verification codes: "log" (development) or "webhook"
// (POST to an SMS gateway).
type Notifier struct {
	Kind      string `yaml:"kind"`
	URL       string `yaml:"url"`
	Token     string `yaml:"token" secret:"true"`
	TokenFile string `yaml:"token_file"`
}

// Listener configures one HTTP listener.
type Listener struct {
	Addr           string        `yaml:"addr"`
	ReadTimeout    time.Duration `yaml:"read_timeout"`
	WriteTimeout   time.Duration `yaml:"write_timeout"`
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes int           `yaml:"max_header_bytes"`
	// WriteBufferBytes is the per-connection response buffer: a response
	// (headers and body) up to this size leaves in one write.
	WriteBufferBytes int `yaml:"write_buffer_bytes"`
	// BodyLimit is the largest request body held in memory. On the console
	// listener larger bodies are streamed to the upstream; on the API listener
	// they are refused with 413.
	BodyLimit int `yaml:"body_limit"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
	// BufferBytes batches log lines into writes of up to this size (0:
	// one write per line). Warnings and errors are written at once, with
	// everything before them.
	BufferBytes int `yaml:"buffer_bytes"`
	// FlushInterval bounds how long a buffered line waits.
	FlushInterval time.Duration `yaml:"flush_interval"`
}

// Redis selects the Redis deployment. With neither URL nor Addrs set, Livery
// runs an embedded Redis-protocol server on loopback.
type Redis struct {
	URL   string   `yaml:"url"`   // redis://[user@]host:port/db or rediss://
	Addrs []string `yaml:"addrs"` // Redis Cluster seed addresses
	// MasterName and SentinelAddrs select Redis Sentinel: the client asks
	// the sentinels for the current master and follows failovers.
	MasterName    string   `yaml:"master_name"`
	SentinelAddrs []string `yaml:"sentinel_addrs"`
	// TLS turns on TLS to the Redis nodes for addrs (Cluster) and
	// sentinel_addrs (a rediss:// url has it already); TLSCAFile is a PEM
	// bundle of the CAs to trust instead of the system's (for any mode).
	TLS          bool   `yaml:"tls"`
	TLSCAFile    string `yaml:"tls_ca_file"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password" secret:"true"`
	PasswordFile string `yaml:"password_file"`
	// AllowEmbeddedWithS3 accepts the embedded Redis with the s3 store.
	// Refused otherwise: an s3 store suggests several instances, and with
	// embedded Redis each would keep its own sessions, limits and caches.
	AllowEmbeddedWithS3 bool `yaml:"allow_embedded_with_s3"`
}

// Embedded reports whether the embedded Redis server is to be used.
func (r Redis) Embedded() bool { return r.URL == "" && len(r.Addrs) == 0 && len(r.SentinelAddrs) == 0 }

// Store selects the object store, the system of record.
type Store struct {
	Driver string   `yaml:"driver"` // dir or s3
	Dir    DirStore `yaml:"dir"`
	S3     S3Store  `yaml:"s3"`
	// Timeout is the deadline of every object store call (opening a read,
	// and then each read of its body, separately); past it the call fails
	// as unavailable and requests are answered 503 with Retry-After.
	Timeout time.Duration `yaml:"timeout"`
}

// DirStore configures the directory driver.
type DirStore struct {
	Path string `yaml:"path"`
}

// S3Store configures the S3 driver (MinIO or any S3-compatible service).
type S3Store struct {
	Endpoint     string `yaml:"endpoint"` // host[:port], no scheme
	Region       string `yaml:"region"`
	Bucket       string `yaml:"bucket"`
	UseSSL       bool   `yaml:"use_ssl"`
	CreateBucket bool   `yaml:"create_bucket"`
	// Credentials is "static" (access_key and secret_key, the default) or
	// "chain": the standard AWS chain (environment, shared credentials
	// file, then the IAM role of the machine or pod, web identity
	// included); see objstore.S3Config.Credentials.
	Credentials   string `yaml:"credentials"`
	AccessKey     string `yaml:"access_key"`
	SecretKey     string `yaml:"secret_key" secret:"true"`
	SecretKeyFile string `yaml:"secret_key_file"`
}

// Proxy configures the reverse proxy to the upstream consoles.
type Proxy struct {
	ConnectTimeout        time.Duration `yaml:"connect_timeout"`
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	IdleConnTimeout       time.Duration `yaml:"idle_conn_timeout"`
	// MaxConnsPerHost caps the connections to one upstream.
	MaxConnsPerHost int `yaml:"max_conns_per_host"`
	// TrustedProxies lists the CIDRs of load balancers in front of Livery
	// whose X-Forwarded-* headers are kept (appended to). From any other
	// peer those headers are replaced.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// TenantSpec is one partner as written in the configuration file.
type TenantSpec struct {
	ID       string   `yaml:"id"`
	Name     Names    `yaml:"name"`
	Hosts    []string `yaml:"hosts"`
	Upstream string   `yaml:"upstream"`
	// XAccountType is the platform id assigned to the partner; partner API
	// requests must carry it. Default: the tenant id.
	XAccountType string          `yaml:"xaccount_type"`
	Provisioner  ProvisionerSpec `yaml:"provisioner"`
	Risk         RiskSpec        `yaml:"risk"`
	// OIDC is the partner platform's provider for its customers. Without
	// it the tenant's console is served without sign-in (development).
	OIDC *TenantOIDC `yaml:"oidc"`
	// Managed says who wins when this entry and the tenant's record in the
	// object store disagree, for a tenant the file creates: "file" (the
	// default: the record is overwritten from the file at every start) or
	// "store" (the file only creates it; it is edited at runtime). A record
	// that exists keeps its own mark (docs/partners.md).
	Managed string `yaml:"managed"`
}

// TenantOIDC is a tenant's customer sign-in provider.
type TenantOIDC struct {
	OIDC `yaml:",inline"`
	// AccountClaim carries the partner-platform account id (default sub).
	AccountClaim string `yaml:"account_claim"`
}

// ProvisionerSpec selects how cloud accounts are created: "builtin"
// (embedded default) or "http" (POST to URL, the upstream's account API).
type ProvisionerSpec struct {
	Kind string `yaml:"kind"`
	URL  string `yaml:"url"`
	// TokenFile holds the bearer token for the account API.
	TokenFile string `yaml:"token_file"`
	// Token is read from TokenFile (never from the configuration file).
	Token string `yaml:"-" env:"token"`
}

// RiskSpec limits registrations, each as "N/duration" (e.g. "3/1h");
// empty means the default, "off" disables that dimension.
type RiskSpec struct {
	PerDevice  string `yaml:"per_device"`
	PerAddress string `yaml:"per_address"`
	PerPartner string `yaml:"per_partner"`
	// RequireDevice refuses registrations without X-Client-Device-Id.
	RequireDevice bool `yaml:"require_device"`
}

// Names holds a display name in Chinese and English.
type Names struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}
