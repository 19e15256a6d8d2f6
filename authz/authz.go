// Package authz decides what every Livery role may do: Casbin enforcement
// with tenants as domains, the customer-manager scoping rule, and the
// explanation printed by `livery policy check`.
//
// Roles and the home tenant of a user come from identity claims at request
// time (Subject); the policy file (configs/authz/policy.csv) holds only the
// permissions of each role and role inheritance. The package never imports
// Fiber: gateway middleware builds a Subject and a Request and maps the
// returned error (ErrDenied → 403, anything else → 500, fail closed).
package authz

import (
	"context"
	"errors"
	"strings"
)

// Well-known roles. Custom roles may appear in the policy and in claims.
const (
	// RoleOperator is the platform operator; it acts in every tenant.
	RoleOperator = "operator"
	// RolePartnerAdmin administers one tenant (its home tenant).
	RolePartnerAdmin = "partner_admin"
	// RoleCustomerManager handles the customers of one tenant assigned to them.
	RoleCustomerManager = "customer_manager"
	// RoleCustomer is an end customer's account in one tenant's console.
	RoleCustomer = "customer"
	// RoleDelegated is a partner user switched into a customer's console
	// under an approved delegation grant: customer scope minus denials.
	RoleDelegated = "delegated"
	// RolePreviewer is a browser previewing proposed branding for a staff
	// member: one tenant's console, read-only.
	RolePreviewer = "previewer"
)

var (
	// ErrDenied is wrapped by Authorize's error when the policy does not allow
	// the request. Callers map it to 403; errors.Is(err, ErrDenied) is the test.
	ErrDenied = errors.New("authz: access denied")
	// ErrInvalidPolicy is wrapped by NewCasbin and Reload when the policy
	// file is malformed; the message lists every problem with line numbers.
	ErrInvalidPolicy = errors.New("authz: invalid policy")
	// ErrInvalidModel is wrapped by NewCasbin when the model text is unusable.
	ErrInvalidModel = errors.New("authz: invalid model")
	// ErrNoPolicyFile is returned by Watch when the authorizer was built from
	// the embedded default policy, which cannot change.
	ErrNoPolicyFile = errors.New("authz: no policy file to watch (embedded policy)")
)

// Subject is the caller, as established by authentication: Livery's one
// principal type. Records that keep who acted (branding workflow
// submissions, decisions and versions; audit records) store a Subject; the
// JSON tags are that stored format ({"user","roles","tenant","customer"},
// empty fields other than user omitted) and must not change.
type Subject struct {
	// User is the user id (for logs and audit; decisions use Roles).
	User string `json:"user"`
	// Roles are the roles from the identity claims.
	Roles []string `json:"roles,omitempty"`
	// Tenant is the home tenant of tenant-scoped roles; "" for an operator.
	Tenant string `json:"tenant,omitempty"`
	// Customer is the customer id for role customer (and the target account
	// of a delegated session). Casbin decisions do not use it; handlers do.
	Customer string `json:"customer,omitempty"`
}

// Request is the operation being authorized.
type Request struct {
	// Tenant is the domain the request concerns (the :tenant path segment of
	// admin routes, the tenant owning the console host); "" for platform
	// endpoints such as the review queue.
	Tenant string
	// Object is the request path, e.g. /admin/v1/tenants/acme/customers.
	Object string
	// Action is the HTTP method.
	Action string
}

// Decision is the outcome of Authorize.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Role is the subject's role that allowed the request, or for an
	// explicit deny the role whose rule denied it; "" otherwise.
	Role string
	// Rule is the matched policy line (sub, dom, obj, act, eft), possibly
	// inherited from another role; nil when nothing matched.
	Rule []string
	// Reason is a human-readable explanation (safe to log, not to show).
	Reason string
}

// Authorizer decides requests. Implementations are safe for concurrent use.
type Authorizer interface {
	// Authorize always returns a Decision. The error is nil when allowed,
	// wraps ErrDenied when the policy denies, and is any other error when
	// the decision could not be made (context done, evaluation failure);
	// the Decision is then not allowed (fail closed).
	Authorize(ctx context.Context, s Subject, r Request) (Decision, error)
}

// CanSeeCustomer reports whether s may see a customer of tenant whose
// assigned managers (user ids) are managersOfCustomer. It is the data-level
// filter behind the customer list and customer reads; Authorize only gates
// the endpoints.
//
// Operators see every customer. Tenant-scoped staff see nothing outside their
// home tenant. In the home tenant a partner_admin sees all customers; a
// customer_manager sees only customers that list them as manager, unless the
// user also holds another partner role of the tenant (any role other than
// customer_manager, customer, delegated and the delegated:<scope> roles), in
// which case they see all.
// Customers and delegated sessions see none through this path.
func CanSeeCustomer(s Subject, tenant string, managersOfCustomer []string) bool {
	if hasRole(s.Roles, RoleOperator) {
		return true
	}
	if tenant == "" || s.Tenant != tenant {
		return false
	}
	manager, otherPartnerRole := false, false
	for _, r := range s.Roles {
		switch r {
		case RoleCustomerManager:
			manager = true
		case RoleCustomer, RoleDelegated, "":
		default: // partner_admin or any other partner role of the tenant
			// A delegated scope role ("delegated:<scope>") is a console
			// session's, never a partner role.
			if !strings.HasPrefix(r, RoleDelegated+":") {
				otherPartnerRole = true
			}
		}
	}
	if otherPartnerRole {
		return true
	}
	if !manager || s.User == "" {
		return false
	}
	for _, m := range managersOfCustomer {
		if m == s.User {
			return true
		}
	}
	return false
}

func hasRole(roles []string, role string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}
