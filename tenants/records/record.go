package records

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/livery/livery/internal/fieldcheck"
	"github.com/livery/livery/tenants"
)

// Status of a tenant.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// Managed marks which side wins when the configuration file and the store
// disagree (see Seed).
const (
	ManagedFile  = "file"  // the file wins: overwritten at every start
	ManagedStore = "store" // the store wins: the file only creates it
)

// Provisioner kinds.
const (
	ProvisionerBuiltin = "builtin"
	ProvisionerHTTP    = "http"
)

// Record is one partner as stored. Secrets are sealed (see Sealer); the
// zero Sealed means "none".
type Record struct {
	ID    string   `json:"id"`
	Name  Names    `json:"name"`
	Hosts []string `json:"hosts"` // normalized (lower case, optional :port)
	// Upstream is the absolute http(s) URL of the cloud console.
	Upstream string `json:"upstream"`
	// XAccountType is the platform id the partner's API requests carry
	// (default: the tenant id).
	XAccountType string      `json:"xaccount_type"`
	Provisioner  Provisioner `json:"provisioner"`
	Risk         Risk        `json:"risk"`
	Association  Association `json:"association"`
	// SignIn is the partner's customer sign-in provider; nil: the console
	// is served without sign-in (development).
	SignIn    *SignIn   `json:"sign_in,omitempty"`
	Status    string    `json:"status"`
	Managed   string    `json:"managed"`
	Version   int64     `json:"version"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// PendingAudit is the audit record of the last change until it is
	// known to be in the audit log (see the package documentation).
	PendingAudit *PendingAudit `json:"pending_audit,omitempty"`
}

// Names is a display name in Chinese and English.
type Names struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Provisioner selects how cloud accounts are created: builtin, or http
// (POST to URL with the sealed bearer token).
type Provisioner struct {
	Kind        string `json:"kind"`
	URL         string `json:"url,omitempty"`
	TokenSealed []byte `json:"token_sealed,omitempty"`
}

// Risk limits registrations, each "N/duration" ("" the default, "off"
// none), as in the configuration file.
type Risk struct {
	PerDevice     string `json:"per_device,omitempty"`
	PerAddress    string `json:"per_address,omitempty"`
	PerPartner    string `json:"per_partner,omitempty"`
	RequireDevice bool   `json:"require_device,omitempty"`
}

// Association holds the defaults of new customer associations: Type is
// the association type a registration gets when it names none ("2"
// resale, the default when empty; "1" referral).
type Association struct {
	Type string `json:"type,omitempty"`
}

// SignIn is a tenant's OpenID Connect provider for its customers.
type SignIn struct {
	Issuer             string   `json:"issuer"`
	ClientID           string   `json:"client_id"`
	ClientSecretSealed []byte   `json:"client_secret_sealed,omitempty"`
	Scopes             []string `json:"scopes,omitempty"`
	// AccountClaim carries the partner-platform account id (default sub).
	AccountClaim string `json:"account_claim,omitempty"`
}

// Input is what a caller (the admin API, the configuration file) gives to
// create or change a tenant. Secrets are plain text here: a nil secret
// keeps the stored one (on Create: none), a non-nil one replaces it (""
// removes it).
type Input struct {
	ID           string
	Name         Names
	Hosts        []string
	Upstream     string
	XAccountType string
	Provisioner  ProvisionerInput
	Risk         Risk
	Association  Association
	SignIn       *SignInInput
	// Managed is ManagedFile or ManagedStore; empty: ManagedStore for
	// Create, the record's own for Update, ManagedFile for Seed.
	Managed string
}

// ProvisionerInput is Provisioner with the token in plain text.
type ProvisionerInput struct {
	Kind  string
	URL   string
	Token *string
}

// SignInInput is SignIn with the client secret in plain text.
type SignInInput struct {
	Issuer       string
	ClientID     string
	ClientSecret *string
	Scopes       []string
	AccountClaim string
}

// Input is the input that stores r again unchanged: every secret kept
// (nil), Managed kept (empty). Callers change the fields they edit, e.g.
// only SignIn for the partner admin's sign-in settings.
func (r Record) Input() Input {
	in := Input{ID: r.ID, Name: r.Name, Hosts: slices.Clone(r.Hosts), Upstream: r.Upstream,
		XAccountType: r.XAccountType, Provisioner: ProvisionerInput{Kind: r.Provisioner.Kind, URL: r.Provisioner.URL},
		Risk: r.Risk, Association: r.Association}
	if s := r.SignIn; s != nil {
		in.SignIn = &SignInInput{Issuer: s.Issuer, ClientID: s.ClientID, Scopes: slices.Clone(s.Scopes), AccountClaim: s.AccountClaim}
	}
	return in
}

// NewIssuer is the sign-in issuer of in to check (by OpenID Connect
// discovery) before storing it over cur (nil: a creation): "" when in has
// no sign-in, keeps cur's issuer, or is invalid anyway (Validate's
// problems come first, all at once).
func NewIssuer(cur *Record, in Input) string {
	if in.SignIn == nil {
		return ""
	}
	issuer := strings.TrimSpace(in.SignIn.Issuer)
	if issuer == "" || (cur != nil && cur.SignIn != nil && cur.SignIn.Issuer == issuer) {
		return ""
	}
	if _, err := Validate(in); err != nil {
		return ""
	}
	return issuer
}

// Clone returns a deep copy of r.
func (r Record) Clone() Record {
	r.Hosts = slices.Clone(r.Hosts)
	r.Provisioner.TokenSealed = slices.Clone(r.Provisioner.TokenSealed)
	if r.SignIn != nil {
		s := *r.SignIn
		s.ClientSecretSealed = slices.Clone(s.ClientSecretSealed)
		s.Scopes = slices.Clone(s.Scopes)
		r.SignIn = &s
	}
	if r.PendingAudit != nil {
		p := *r.PendingAudit
		r.PendingAudit = &p
	}
	return r
}

// RiskPolicy converts the record's limits to the rate limiter's policy:
// "" is the zero Quota (the default), "off" practically unlimited. The
// limits must be valid (Validate).
func (r Risk) RiskPolicy() tenants.RiskPolicy {
	return tenants.RiskPolicy{PerDevice: quota(r.PerDevice), PerAddress: quota(r.PerAddress),
		PerPartner: quota(r.PerPartner), RequireDevice: r.RequireDevice}
}

func quota(spec string) tenants.Quota {
	n, per, off, ok, _ := fieldcheck.ParseRate(spec)
	switch {
	case off:
		return tenants.Quota{N: 1 << 30, Per: time.Second}
	case !ok:
		return tenants.Quota{}
	}
	return tenants.Quota{N: n, Per: per}
}

// Tenant returns the record as the gateway's tenants.Tenant. The record
// must be valid (Validate): its upstream parses.
func (r Record) Tenant() (tenants.Tenant, error) {
	up, err := url.Parse(r.Upstream)
	if err != nil {
		return tenants.Tenant{}, err
	}
	xt := r.XAccountType
	if xt == "" {
		xt = r.ID
	}
	return tenants.Tenant{ID: r.ID, Name: tenants.Names{ZH: r.Name.ZH, EN: r.Name.EN}, Hosts: slices.Clone(r.Hosts),
		Upstream: up, XAccountType: xt, Risk: r.Risk.RiskPolicy()}, nil
}
