package authz

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livery/livery/configs"
)

// Options tunes a Casbin authorizer. The zero value is usable.
type Options struct {
	// Logger receives reload and watch messages; nil means slog.Default().
	Logger *slog.Logger
	// PlatformRoles act in every tenant; every other role acts only in the
	// subject's home tenant. Nil means []string{RoleOperator}.
	PlatformRoles []string
	// Debounce coalesces bursts of file events before a reload; 0 means 50ms.
	Debounce time.Duration
	// OnReload, if set, is called after every reload attempt with its
	// result (nil: new policy active; non-nil: previous policy kept). It is
	// called synchronously and must not block.
	OnReload func(err error)
}

// Casbin is the Casbin-backed Authorizer. Authorize is safe for concurrent
// use with Reload and Watch: each load builds a new enforcer that is swapped
// in atomically, so a decision always sees one complete policy.
type Casbin struct {
	modelText string
	path      string
	log       *slog.Logger
	platform  map[string]bool
	debounce  time.Duration
	onReload  func(error)

	cur       atomic.Pointer[snapshot]
	decisions decisionCache     // memoized Authorize results, keyed by snapshot
	reloadMu  sync.Mutex        // serialises loads
	lastSum   [sha256.Size]byte // content of the last load attempt; guarded by reloadMu
}

var _ Authorizer = (*Casbin)(nil)

// NewCasbin builds an authorizer from modelText ("" = embedded
// configs.AuthzModel) and the policy file at policyPath ("" = embedded
// configs.AuthzPolicy, which Watch cannot follow). The error wraps
// ErrInvalidModel or ErrInvalidPolicy for bad content, or the os error when
// the file cannot be read.
func NewCasbin(modelText, policyPath string, o Options) (*Casbin, error) {
	if modelText == "" {
		modelText = string(configs.AuthzModel)
	}
	c := &Casbin{modelText: modelText, path: policyPath, log: o.Logger, debounce: o.Debounce, onReload: o.OnReload}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.debounce <= 0 {
		c.debounce = 50 * time.Millisecond
	}
	roles := o.PlatformRoles
	if roles == nil {
		roles = []string{RoleOperator}
	}
	c.platform = make(map[string]bool, len(roles))
	for _, r := range roles {
		c.platform[r] = true
	}
	source, data, err := c.read()
	if err != nil {
		return nil, err
	}
	s, err := load(modelText, source, data)
	if err != nil {
		return nil, err
	}
	c.cur.Store(s)
	c.lastSum = s.sum
	return c, nil
}

func (c *Casbin) read() (source string, data []byte, err error) {
	if c.path == "" {
		return "embedded policy", configs.AuthzPolicy, nil
	}
	data, err = os.ReadFile(c.path)
	if err != nil {
		return c.path, nil, fmt.Errorf("authz: read policy: %w", err)
	}
	return c.path, data, nil
}

func load(modelText, source string, data []byte) (*snapshot, error) {
	rules, err := parsePolicy(source, data)
	if err != nil {
		return nil, err
	}
	return newSnapshot(modelText, source, data, rules)
}

// Reload re-reads the policy file and, if it is valid, makes it the active
// policy. On error (wrapping ErrInvalidPolicy, or the os error when the file
// cannot be read) the previous policy stays active. With the embedded policy
// it rebuilds from the embedded bytes and returns nil.
func (c *Casbin) Reload() error {
	return c.reload(true)
}

// reload loads the policy; unless force, content identical to the last
// attempt (successful or not) is skipped so event bursts cost one parse.
func (c *Casbin) reload(force bool) error {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	source, data, err := c.read()
	if err == nil {
		sum := sha256.Sum256(data)
		if !force && sum == c.lastSum {
			return nil
		}
		c.lastSum = sum
		var s *snapshot
		if s, err = load(c.modelText, source, data); err == nil {
			c.cur.Store(s)
			c.log.Info("authz: policy loaded", "source", source, "rules", s.rules)
		}
	}
	if err != nil {
		c.log.Error("authz: policy reload failed; keeping previous policy", "source", source, "err", err)
	}
	if c.onReload != nil {
		c.onReload(err)
	}
	return err
}

// Authorize decides r for s; see Authorizer for the error contract.
//
// Each of the subject's roles is evaluated on its own (sub = role, dom =
// r.Tenant). A tenant-scoped role counts only when s.Tenant equals r.Tenant,
// so a partner_admin of tenant A is denied in tenant B even where the path
// pattern matches. The request is allowed when some eligible role is allowed
// and no eligible role hits an explicit deny rule (deny overrides, as within
// one role). Paths must be canonical (no empty, "." or ".." segments) and
// methods plain tokens; anything else is denied. A path that names a tenant
// (it starts like a policy pattern with a :tenant segment, e.g.
// /admin/v1/tenants/:tenant) is denied unless it names r.Tenant, whatever
// rule would match: wildcard rules such as the operator's "/*" cannot be used
// to reach tenant B's endpoints with a decision made for tenant A.
func (c *Casbin) Authorize(ctx context.Context, s Subject, r Request) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{Reason: "context done"}, err
	}
	snap := c.cur.Load()
	k := keyOf(snap, s, r)
	if hit, ok := c.decisions.get(k); ok {
		return hit.d, hit.err
	}
	d, _, err := c.evaluate(snap, s, r)
	c.decisions.put(k, d, err)
	return d, err
}

func (c *Casbin) evaluate(snap *snapshot, s Subject, r Request) (Decision, []RoleTrace, error) {
	deny := func(reason string) (Decision, []RoleTrace, error) {
		return Decision{Reason: reason}, nil, fmt.Errorf("%w: %s", ErrDenied, reason)
	}
	act := strings.ToUpper(r.Action)
	if !isToken(act) {
		return deny(fmt.Sprintf("invalid method %q", r.Action))
	}
	if !canonicalPath(r.Object) {
		return deny(fmt.Sprintf("non-canonical path %q", r.Object))
	}
	if len(s.Roles) == 0 {
		return deny("subject has no roles")
	}
	if t, ok := snap.pathTenant(r.Object); ok && t != r.Tenant {
		return deny(fmt.Sprintf("path names tenant %q but the request concerns tenant %q", t, r.Tenant))
	}
	var (
		trace         []RoleTrace
		allow, denied = -1, -1 // indexes into trace
		seen          = map[string]bool{}
	)
	for _, role := range s.Roles {
		if role == "" || seen[role] {
			continue
		}
		seen[role] = true
		rr := RoleTrace{Role: role, InPolicy: snap.roles[role], Eligible: true}
		switch {
		case c.platform[role]:
		case s.Tenant == "":
			rr.Eligible, rr.Note = false, "tenant-scoped role without a home tenant"
		case s.Tenant != r.Tenant:
			rr.Eligible, rr.Note = false, fmt.Sprintf("tenant-scoped role of tenant %q does not act in tenant %q", s.Tenant, r.Tenant)
		}
		if rr.Eligible {
			ok, rule, err := snap.enf.EnforceEx(role, r.Tenant, r.Object, act)
			if err != nil {
				return Decision{Reason: "policy evaluation failed"}, trace, fmt.Errorf("authz: evaluate role %q: %w", role, err)
			}
			rr.Allowed = ok
			if len(rule) > 0 {
				rr.Rule = rule
			}
			switch {
			case ok:
				rr.Note = "allowed"
			case len(rule) == 5 && rule[4] == "deny":
				rr.Note = "explicit deny"
			default:
				rr.Note = "no matching allow rule"
			}
		}
		if rr.Allowed && allow < 0 {
			allow = len(trace)
		}
		if !rr.Allowed && rr.Rule != nil && denied < 0 {
			denied = len(trace)
		}
		trace = append(trace, rr)
	}
	switch {
	case denied >= 0:
		d := trace[denied]
		reason := fmt.Sprintf("role %s: denied by rule %s", d.Role, formatRule(d.Rule))
		return Decision{Role: d.Role, Rule: d.Rule, Reason: reason}, trace, fmt.Errorf("%w: %s", ErrDenied, reason)
	case allow >= 0:
		a := trace[allow]
		reason := fmt.Sprintf("role %s: allowed by rule %s", a.Role, formatRule(a.Rule))
		return Decision{Allowed: true, Role: a.Role, Rule: a.Rule, Reason: reason}, trace, nil
	}
	reason := fmt.Sprintf("no rule allows %s %s in tenant %q for roles %v", act, r.Object, r.Tenant, s.Roles)
	for _, rr := range trace {
		if !rr.Eligible {
			reason += "; " + rr.Role + ": " + rr.Note
		}
	}
	return Decision{Reason: reason}, trace, fmt.Errorf("%w: %s", ErrDenied, reason)
}

// Source names the active policy: its file path, or "embedded policy".
func (c *Casbin) Source() string {
	return c.cur.Load().source
}

// formatRule renders a matched rule as its policy-file line.
func formatRule(rule []string) string {
	return "p, " + strings.Join(rule, ", ")
}

// isToken reports whether m is a plausible HTTP method (upper-case letters).
func isToken(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}

// canonicalPath accepts absolute paths without empty, "." or ".." segments
// (a single trailing slash is fine) and without query or fragment.
func canonicalPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#\x00") {
		return false
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		if seg == "" && i == len(segs)-1 {
			continue // trailing slash, or the root "/"
		}
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
