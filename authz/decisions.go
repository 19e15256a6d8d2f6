package authz

import (
	"errors"
	"strings"
	"sync"
)

// maxCachedDecisions bounds the decision cache; when full it is emptied
// (simple, and a console's working set of paths refills it quickly).
const maxCachedDecisions = 8192

// decisionKey is everything a decision depends on. The snapshot pointer
// makes a reload invalidate every cached decision at once.
type decisionKey struct {
	snap                    *snapshot
	roles                   string // each role followed by NUL, in order
	home, tenant, obj, meth string
}

type decision struct {
	d   Decision
	err error
}

// decisionCache memoizes Casbin evaluations: Casbin walks every rule per
// request, which costs tens of microseconds on the console hot path.
type decisionCache struct {
	mu sync.RWMutex
	m  map[decisionKey]decision
}

func (c *decisionCache) get(k decisionKey) (decision, bool) {
	c.mu.RLock()
	d, ok := c.m[k]
	c.mu.RUnlock()
	return d, ok
}

// put stores deterministic outcomes only (allowed, or denied by policy).
// The key's strings are copied: callers pass request values (the path, the
// method) that may point into a buffer the HTTP server reuses for the next
// request, and a key that changed under the map would answer another
// request with this decision.
func (c *decisionCache) put(k decisionKey, d Decision, err error) {
	if err != nil && !errors.Is(err, ErrDenied) {
		return
	}
	k.roles, k.home, k.tenant = strings.Clone(k.roles), strings.Clone(k.home), strings.Clone(k.tenant)
	k.obj, k.meth = strings.Clone(k.obj), strings.Clone(k.meth)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedDecisions {
		c.m = make(map[decisionKey]decision, 256)
	}
	c.m[k] = decision{d, err}
	c.mu.Unlock()
}

func keyOf(snap *snapshot, s Subject, r Request) decisionKey {
	var roles string
	switch len(s.Roles) {
	case 0:
	case 1:
		roles = s.Roles[0] + "\x00" // distinct from no roles even when empty
	default:
		roles = strings.Join(s.Roles, "\x00") + "\x00"
	}
	return decisionKey{snap: snap, roles: roles, home: s.Tenant, tenant: r.Tenant, obj: r.Object, meth: r.Action}
}
