package association

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/internal/objstore"
)

// AuditStream is the audit stream of association events (package audit).
const AuditStream = "association"

// Audit events. One record serves both sides: it names the tenant and the
// customer (DomainID).
const (
	EventInvitationCreated  = "invitation.created"
	EventInvitationResent   = "invitation.resent"
	EventInvitationRevoked  = "invitation.revoked"
	EventInvitationDeclined = "invitation.declined"
	EventNoticeSigned       = "notice.signed"
	EventAssociated         = "association.created"
	EventChangeRequested    = "association.change.requested"
	EventChangeConfirmed    = "association.change.confirmed"
	EventChangeRefused      = "association.change.refused"
	EventManagerPeriod      = "association.manager.period"
)

// Association types (as tenants.AssociationReferral / AssociationResale).
const (
	TypeReferral = "1" // 顾问销售
	TypeResale   = "2" // 代售
)

// InvitationTTL is how long an online link stays valid after it is sent.
const InvitationTTL = 7 * 24 * time.Hour

// ChangeMonths is the minimum interval, in calendar months, between two
// confirmed changes (type change or unbinding) of one customer.
const ChangeMonths = 3

// AccountInfo is what the caller knows about a cloud account.
type AccountInfo struct {
	Frozen    bool
	IsPartner bool
	// AssociatedWith is the tenant the account is associated with outside
	// this package (e.g. registered through the partner API), "" if none.
	AssociatedWith string
}

// Accounts tells the service about cloud accounts; the caller implements it.
// tenant is the partner the account is about to be associated with (the
// cloud's account API may be reached per partner). An error fails the
// acceptance as unavailable (nothing is written).
type Accounts interface {
	Account(ctx context.Context, tenant, customer string) (AccountInfo, error)
}

// Registry mirrors a binding into the customer registry (tenants) so the
// partner API and the UI see it. Apply must be idempotent: it is called
// again after a crash. Called after every binding transition with the
// binding as it now is (State bound or unbound, Type).
type Registry interface {
	Apply(ctx context.Context, b Binding) error
}

// UnbindHook is told when a customer is unbound, so the caller ends its
// delegation grants. It must be idempotent (called again after a crash).
type UnbindHook interface {
	CustomerUnbound(ctx context.Context, tenant, customer string) error
}

// Options configures a Service; Accounts is required, zero others default.
type Options struct {
	Accounts Accounts
	Registry Registry   // optional
	Unbound  UnbindHook // optional
	// Announcer, if set, is told what people should learn about.
	Announcer Announcer
	Audit     audit.Sink // default: audit.NewLog(store, AuditStream)
	Now       func() time.Time
	Logger    *slog.Logger
}

// Service is the association lifecycle on an object store. Stateless and
// safe for concurrent use, also from several processes sharing a store.
type Service struct {
	store     objstore.Store
	accounts  Accounts
	registry  Registry
	unbound   UnbindHook
	announcer Announcer
	audit     audit.Sink
	now       func() time.Time
	log       *slog.Logger
}

// New returns a Service on store. It panics without o.Accounts.
func New(store objstore.Store, o Options) *Service {
	if o.Accounts == nil {
		panic("association: Options.Accounts is required")
	}
	s := &Service{store: store, accounts: o.Accounts, registry: o.Registry, unbound: o.Unbound, announcer: o.Announcer, audit: o.Audit,
		now: o.Now, log: o.Logger}
	if s.audit == nil {
		s.audit = audit.NewLog(store, AuditStream)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Object keys (see docs/association.md).
func invitationPrefix(t string) string   { return "association/tenants/" + t + "/invitations/" }
func invitationKey(t, id string) string  { return invitationPrefix(t) + id + ".json" }
func tokenKey(hash string) string        { return "association/tokens/" + hash + ".json" }
func bindingKey(c string) string         { return "association/customers/" + c + ".json" }
func signaturePrefix(c string) string    { return "association/signatures/" + c + "/" }
func signatureKey(c, v, t string) string { return signaturePrefix(c) + v + "-" + t + ".json" }
func periodsPrefix(t string) string      { return "association/tenants/" + t + "/managers/" }
func periodsKey(t, c string) string      { return periodsPrefix(t) + c + ".json" }
func managerIndexKey(t, m, c string) string {
	return "association/tenants/" + t + "/by-manager/" + hashHex(m)[:40] + "/" + c + ".json"
}
func managerIndexPrefix(t, m string) string {
	return "association/tenants/" + t + "/by-manager/" + hashHex(m)[:40] + "/"
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

var (
	idRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	invRe = regexp.MustCompile(`^[0-9]{8}T[0-9]{15}Z-[0-9a-f]{8}$`)
)

// ValidID reports whether id is usable as a tenant or customer id.
func ValidID(id string) bool { return idRe.MatchString(id) }

func newID(t time.Time) string { return ids.Sortable(t) }

func (s *Service) clock() time.Time { return s.now().UTC() }

func isPrecondition(err error) bool   { return errors.Is(err, objstore.ErrPreconditionFailed) }
func createOnly() objstore.PutOptions { return objstore.PutOptions{IfNoneMatch: true} }

func condition(etag string) objstore.PutOptions {
	if etag == "" {
		return createOnly()
	}
	return objstore.PutOptions{IfMatch: etag}
}

func getJSON[T any](ctx context.Context, st objstore.Store, key string) (v T, etag string, found bool, err error) {
	v, etag, found, err = objstore.LookupJSON[T](ctx, st, key)
	if err != nil {
		err = fmt.Errorf("association: read %s: %w", key, err)
	}
	return v, etag, found, err
}

func (s *Service) put(ctx context.Context, key string, v any, o objstore.PutOptions) (string, error) {
	obj, err := objstore.PutJSON(ctx, s.store, key, v, o)
	return obj.ETag, err
}

func hasRole(a authz.Subject, role string) bool {
	for _, r := range a.Roles {
		if r == role {
			return true
		}
	}
	return false
}

func delegatedRole(a authz.Subject) bool {
	for _, r := range a.Roles {
		if r == authz.RoleDelegated || strings.HasPrefix(r, authz.RoleDelegated+":") {
			return true
		}
	}
	return false
}

// checkAdmin: a partner admin of tenant (the caller authorizes too).
func checkAdmin(tenant string, a authz.Subject) error {
	if !ValidID(tenant) {
		return wrap(ErrInvalid, "tenant id %q", tenant)
	}
	if strings.TrimSpace(a.User) == "" || !hasRole(a, authz.RolePartnerAdmin) || a.Tenant != tenant ||
		hasRole(a, authz.RoleCustomer) || delegatedRole(a) {
		return wrap(ErrNotAllowed, "%q is not a partner admin of %s / 不是该合作伙伴的管理员", a.User, tenant)
	}
	return nil
}

// checkAccount: a customer account acting for itself (not delegated).
func checkAccount(a authz.Subject) error {
	if strings.TrimSpace(a.User) == "" || !hasRole(a, authz.RoleCustomer) || !ValidID(a.Customer) || delegatedRole(a) {
		return wrap(ErrNotAllowed, "only the customer account itself may do this / 仅客户本人可操作")
	}
	return nil
}

// auditEvent is an audit record to write; ID makes it idempotent.
type auditEvent struct {
	Event, ID, Tenant, Customer, Detail, Reason string
	At                                          time.Time
	Actor                                       authz.Subject
}

func (s *Service) record(ctx context.Context, e auditEvent) error {
	r := audit.Record{ID: e.ID, Time: e.At, Event: e.Event, Tenant: e.Tenant, DomainID: e.Customer, Actor: e.Actor,
		Detail: e.Detail, Reason: e.Reason}
	if err := s.audit.Record(ctx, r); err != nil {
		s.log.Error("association: done but audit record failed", "event", e.Event, "tenant", e.Tenant,
			"customer", e.Customer, "err", err)
		return fmt.Errorf("association: %s done but not audited: %w", e.Event, err)
	}
	return nil
}

// Events returns the tenant's association audit records, oldest first,
// only those of customer when it is not "". Errors: a store error, or
// ErrInvalid when the sink is not an audit.Reader.
func (s *Service) Events(ctx context.Context, tenant, customer string) ([]audit.Record, error) {
	rd, ok := s.audit.(audit.Reader)
	if !ok {
		return nil, wrap(ErrInvalid, "the audit sink cannot be read")
	}
	recs, err := rd.Records(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := recs[:0:0]
	for _, r := range recs {
		if customer == "" || r.DomainID == customer {
			out = append(out, r)
		}
	}
	return out, nil
}
