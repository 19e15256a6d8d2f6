package delegation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/internal/objstore"
)

// Options configures a Service. Zero fields take defaults.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RequestTTL is how long a request waits for the customer's answer
	// (default DefaultRequestTTL; the setting lives in internal/config).
	RequestTTL time.Duration
	// Audit receives grant events (default: the audit.Log of AuditStream
	// on the service's store). Service.Events needs an audit.Pager.
	Audit audit.Sink
	// Notifier, if set, is told after every grant state change.
	Notifier Notifier
	// Announcer, if set, is told what people should learn about.
	Announcer Announcer
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Service runs delegated operations on an object store. It is stateless
// and safe for concurrent use, also from several processes sharing the
// store. Methods take the tenant id first after ctx. Store failures are
// returned wrapped (they wrap none of this package's sentinels).
type Service struct {
	store     objstore.Store
	dir       Directory
	now       func() time.Time
	ttl       time.Duration
	audit     audit.Sink
	notifier  Notifier
	announcer Announcer
	log       *slog.Logger
}

// New returns a Service on store that looks customers up in dir.
func New(store objstore.Store, dir Directory, o Options) *Service {
	s := &Service{store: store, dir: dir, now: o.Now, ttl: o.RequestTTL, audit: o.Audit,
		notifier: o.Notifier, announcer: o.Announcer, log: o.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = DefaultRequestTTL
	}
	if s.audit == nil {
		s.audit = audit.NewLog(store, AuditStream)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Object keys (see the package documentation).
func root(t string) string                    { return "delegation/" + t + "/" }
func grantPrefix(t string) string             { return root(t) + "grants/" }
func grantKey(t, id string) string            { return grantPrefix(t) + id + ".json" }
func customerPrefix(t, c string) string       { return root(t) + "customers/" + c + "/" }
func customerIndexKey(t, c, id string) string { return customerPrefix(t, c) + id + ".json" }
func pendingKey(t, c string) string           { return root(t) + "pending/" + c + ".json" }
func activePrefix(t string) string            { return root(t) + "active/" }
func activeKey(t, c string) string            { return activePrefix(t) + c + ".json" }
func agreementKey(t, v string) string         { return root(t) + "agreements/" + v + ".json" }
func reminderKey(t, id, th string) string     { return root(t) + "reminders/" + id + "-" + th + ".json" }
func actionPrefix(t, c string) string         { return root(t) + "actions/" + c + "/" }

func isNotFound(err error) bool       { return errors.Is(err, objstore.ErrNotFound) }
func isPrecondition(err error) bool   { return errors.Is(err, objstore.ErrPreconditionFailed) }
func createOnly() objstore.PutOptions { return objstore.PutOptions{IfNoneMatch: true} }

// condition is create-only for etag "", else compare-and-swap on etag.
func condition(etag string) objstore.PutOptions {
	if etag == "" {
		return createOnly()
	}
	return objstore.PutOptions{IfMatch: etag}
}

var (
	idRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	grantRe = regexp.MustCompile(`^[0-9]{8}T[0-9]{15}Z-[0-9a-f]{8}$`)
)

// ValidID reports whether id is usable as a tenant or customer id in
// object keys: 1–64 ASCII letters, digits, '_' or '-', starting with a
// letter or digit.
func ValidID(id string) bool { return idRe.MatchString(id) }

// ValidGrantID reports whether id has the form of a grant id.
func ValidGrantID(id string) bool { return grantRe.MatchString(id) }

func checkIDs(tenant, customer string) error {
	if !ValidID(tenant) {
		return fmt.Errorf("%w: tenant id %q", ErrInvalidArgument, tenant)
	}
	if customer != "" && !ValidID(customer) {
		return fmt.Errorf("%w: customer id %q", ErrInvalidArgument, customer)
	}
	return nil
}

func checkUser(a authz.Subject) error {
	if strings.TrimSpace(a.User) == "" {
		return fmt.Errorf("%w: actor user required", ErrInvalidArgument)
	}
	return nil
}

// isCustomerRole reports whether a subject acts as a customer (a
// customer or a delegated session): such subjects are never staff.
func isCustomerRole(a authz.Subject) bool {
	for _, r := range a.Roles {
		if r == authz.RoleCustomer || r == authz.RoleDelegated || strings.HasPrefix(r, RolePrefix) {
			return true
		}
	}
	return false
}

func hasRole(a authz.Subject, role string) bool {
	for _, r := range a.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// checkStaff: staff of tenant (home tenant equal, not a customer role),
// or an operator when operators is true.
func checkStaff(tenant string, a authz.Subject, operators bool) error {
	if err := checkUser(a); err != nil {
		return err
	}
	switch {
	case isCustomerRole(a):
		return fmt.Errorf("%w: %s acts as a customer, not as partner staff", ErrNotYourGrant, a.User)
	case operators && hasRole(a, authz.RoleOperator):
		return nil
	case a.Tenant != tenant:
		return fmt.Errorf("%w: %s is not staff of tenant %s", ErrNotYourGrant, a.User, tenant)
	}
	return nil
}

// checkCustomer: the customer customer of tenant itself (role customer,
// not a delegated session).
func checkCustomer(tenant, customer string, a authz.Subject) error {
	if err := checkUser(a); err != nil {
		return err
	}
	if !hasRole(a, authz.RoleCustomer) || a.Tenant != tenant || a.Customer != customer {
		return fmt.Errorf("%w: only customer %s of tenant %s may decide this grant", ErrNotYourGrant, customer, tenant)
	}
	for _, r := range a.Roles {
		if r == authz.RoleDelegated || strings.HasPrefix(r, RolePrefix) {
			return fmt.Errorf("%w: a delegated session cannot decide grants", ErrNotYourGrant)
		}
	}
	return nil
}

// reason trims r and checks it; required says whether empty is an error.
func reason(r string, required bool) (string, error) {
	r = strings.TrimSpace(r)
	switch n := utf8.RuneCountInString(r); {
	case !utf8.ValidString(r):
		return "", fmt.Errorf("%w: not valid UTF-8", ErrReasonRequired)
	case n == 0 && required:
		return "", ErrReasonRequired
	case n > MaxReasonRunes:
		return "", fmt.Errorf("%w: %d characters", ErrReasonRequired, n)
	}
	return r, nil
}

// newGrantID returns a chronologically sortable id.
func newGrantID(t time.Time) string { return ids.Sortable(t) }

func (s *Service) clock() time.Time { return s.now().UTC() }

// getJSON reads key; found is false (with nil error) when it is missing.
func getJSON[T any](ctx context.Context, st objstore.Store, key string) (v T, etag string, found bool, err error) {
	v, etag, found, err = objstore.LookupJSON[T](ctx, st, key)
	if err != nil {
		err = fmt.Errorf("delegation: read %s: %w", key, err)
	}
	return v, etag, found, err
}

func (s *Service) putJSON(ctx context.Context, key string, v any, opts objstore.PutOptions) (string, error) {
	obj, err := objstore.PutJSON(ctx, s.store, key, v, opts)
	if err != nil {
		return "", err
	}
	return obj.ETag, nil
}

func (s *Service) changed(ctx context.Context, tenant, id string) {
	if s.notifier != nil {
		s.notifier.GrantChanged(context.WithoutCancel(ctx), tenant, id)
	}
}
