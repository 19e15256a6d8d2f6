package authz

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// RoleTrace is how one of the subject's roles fared in a decision.
type RoleTrace struct {
	// Role is the role name as claimed.
	Role string
	// InPolicy reports whether the policy mentions the role at all (as the
	// subject of a rule or in role inheritance).
	InPolicy bool
	// Eligible reports whether the role may act in the request's tenant: a
	// platform role always, a tenant-scoped role only in the subject's home
	// tenant. Only eligible roles are evaluated.
	Eligible bool
	// Allowed reports whether the role's rules (own and inherited) allow
	// the request.
	Allowed bool
	// Rule is the matched policy line (sub, dom, obj, act, eft): the allow
	// rule that granted or the deny rule that refused; nil when no rule
	// decided (nothing matched, or the role was not evaluated). Its sub is
	// another role when the rule is inherited.
	Rule []string
	// Note says why, in words: "allowed", "explicit deny", "no matching
	// allow rule", or why the role is not eligible.
	Note string
}

// Explanation is the full account of one decision: what `livery policy
// check` prints. Its decision is exactly the one Authorize makes.
type Explanation struct {
	Subject  Subject
	Request  Request
	Decision Decision
	// Err is what Authorize returns for the same input: nil when allowed,
	// wrapping ErrDenied when denied, another error when the decision could
	// not be made.
	Err error
	// Roles traces each distinct non-empty role of the subject, in the
	// subject's order. It is empty when the request was refused before any
	// role was evaluated (bad method or path, no roles, a path naming a
	// tenant other than Request.Tenant).
	Roles []RoleTrace
	// Source, Rules and LoadedAt describe the policy that decided: its file
	// (or "embedded policy"), its number of rules (p and g lines) and when
	// it was loaded.
	Source   string
	Rules    int
	LoadedAt time.Time
}

// Explain decides r for s like Authorize (without a context) and returns
// the decision with the per-role trace and the policy that made it. All of
// it comes from one policy snapshot, even while a reload is under way.
func (c *Casbin) Explain(s Subject, r Request) Explanation {
	snap := c.cur.Load()
	d, trace, err := c.evaluate(snap, s, r)
	return Explanation{
		Subject:  s,
		Request:  r,
		Decision: d,
		Err:      err,
		Roles:    trace,
		Source:   snap.source,
		Rules:    snap.rules,
		LoadedAt: snap.loadedAt,
	}
}

// String returns the multi-line explanation written by Format.
func (e Explanation) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

// Format writes a human explanation of the decision to w, for example:
//
//	Decision: DENY
//	Reason:   role delegated: denied by rule p, delegated, *, /marketplace/*, POST|PUT|PATCH|DELETE, deny
//	Request:  POST /marketplace/buy in tenant "acme"
//	Subject:  user "bob", roles delegated, home tenant "acme"
//	Policy:   /etc/livery/policy.csv (29 rules, loaded 2026-03-01T09:30:00Z)
//	Roles (each eligible role is checked on its own; a deny from any role wins, otherwise one allow is enough):
//	  delegated: DENY (explicit deny)
//	    rule: p, delegated, *, /marketplace/*, POST|PUT|PATCH|DELETE, deny
func (e Explanation) Format(w io.Writer) error {
	var b strings.Builder
	e.write(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (e Explanation) write(b *strings.Builder) {
	verdict := "DENY"
	switch {
	case e.Err != nil && !errors.Is(e.Err, ErrDenied):
		verdict = "ERROR (fail closed: denied)"
	case e.Decision.Allowed && e.Err == nil:
		verdict = "ALLOW"
	}
	fmt.Fprintf(b, "Decision: %s\n", verdict)
	if e.Decision.Reason != "" {
		fmt.Fprintf(b, "Reason:   %s\n", e.Decision.Reason)
	}
	if e.Err != nil && !errors.Is(e.Err, ErrDenied) {
		fmt.Fprintf(b, "Error:    %v\n", e.Err)
	}
	fmt.Fprintf(b, "Request:  %s %s in tenant %s\n", e.Request.Action, e.Request.Object, tenantName(e.Request.Tenant))

	user := "(none)"
	if e.Subject.User != "" {
		user = fmt.Sprintf("%q", e.Subject.User)
	}
	roles := "(none)"
	if len(e.Subject.Roles) > 0 {
		roles = strings.Join(e.Subject.Roles, ",")
	}
	home := "none"
	if e.Subject.Tenant != "" {
		home = fmt.Sprintf("%q", e.Subject.Tenant)
	}
	fmt.Fprintf(b, "Subject:  user %s, roles %s, home tenant %s", user, roles, home)
	if e.Subject.Customer != "" {
		fmt.Fprintf(b, ", customer %q", e.Subject.Customer)
	}
	b.WriteString("\n")

	loaded := "unknown"
	if !e.LoadedAt.IsZero() {
		loaded = e.LoadedAt.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(b, "Policy:   %s (%d rules, loaded %s)\n", e.Source, e.Rules, loaded)

	if len(e.Roles) == 0 {
		b.WriteString("Roles:    not evaluated; the request was refused before any role was checked\n")
		return
	}
	b.WriteString("Roles (each eligible role is checked on its own; a deny from any role wins, otherwise one allow is enough):\n")
	for _, rt := range e.Roles {
		status := "no match"
		switch {
		case !rt.Eligible:
			status = "not eligible"
		case rt.Allowed:
			status = "ALLOW"
		case rt.Rule != nil:
			status = "DENY"
		}
		note := rt.Note
		if !rt.InPolicy {
			note += "; role not defined in the policy"
		}
		fmt.Fprintf(b, "  %s: %s (%s)\n", rt.Role, status, note)
		if rt.Rule != nil {
			fmt.Fprintf(b, "    rule: %s", formatRule(rt.Rule))
			if rt.Rule[0] != rt.Role {
				fmt.Fprintf(b, " (inherited from %s)", rt.Rule[0])
			}
			b.WriteString("\n")
		}
	}
}

// tenantName quotes a tenant for display; "" is the platform domain.
func tenantName(t string) string {
	if t == "" {
		return `"" (platform)`
	}
	return fmt.Sprintf("%q", t)
}
