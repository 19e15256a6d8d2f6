package redisx

// Every Redis key and pub/sub channel Livery uses starts with one of these
// prefixes; each is used by one package. They are listed here, in one
// place, so that a new key cannot collide with an old one and an operator
// can see what Livery keeps in Redis (all of it can be rebuilt or safely
// lost: DESIGN.md, "data placement"). TestKeyPrefixesHaveOneHome keeps
// them here.
const (
	KeySessions  = "livery:sess:"           // gateway/sessions: sessions and their sid/sub indexes
	ChanSessions = "livery:sess:invalidate" // gateway/sessions: ended sessions, to every instance's cache
	KeyLogin     = "livery:login:"          // gateway/signin: login states (10 minutes each)
	KeyPreview   = "livery:preview:"        // gateway/preview: preview links and markers
	KeyRateLimit = "livery:rl:"             // tenants/ratelimit: rate-limit and risk buckets
	KeyCodes     = "livery:code:"           // tenants/codes: verification codes
	KeyIndex     = "livery:idx:"            // tenants/redisindex: the customer index (rebuilt by livery reindex)
	KeyKeyUsage  = "livery:keyuse:"         // tenants/keyusage: when each access key was last used (loss only loses that)
	KeyAPIStats  = "livery:apistats:"       // tenants/apistats: partner API request counts per tenant and UTC day (kept ~35 days; loss only loses the summary)
	ChanBranding = "livery:branding:live"   // branding/live: a tenant's live branding changed
	ChanTenants  = "livery:tenants:changed" // tenants/live: a tenant record changed, to every instance's tenant table
	KeyDelegate  = "livery:delegate:"       // gateway/switchrole: one-time switch-in tokens (2 minutes each)
	ChanDelegate = "livery:delegate:grants" // gateway/switchrole: a delegation grant changed, to every instance's grant cache
)
