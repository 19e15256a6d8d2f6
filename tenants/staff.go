package tenants

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/objstore"
)

// ErrUnknownStaff: the user id is not a member of the tenant's staff
// directory (never seen signing in with a staff role of that tenant).
// UnknownStaffError wraps it with the ids at fault.
var ErrUnknownStaff = errors.New("not a staff member of the tenant")

// UnknownStaffError names the user ids that are not staff of Tenant. It
// unwraps to ErrUnknownStaff.
type UnknownStaffError struct {
	Tenant string
	IDs    []string
}

func (e *UnknownStaffError) Error() string {
	return fmt.Sprintf("not staff of tenant %s: %q", e.Tenant, e.IDs)
}

func (e *UnknownStaffError) Unwrap() error { return ErrUnknownStaff }

// StaffMember is one person of a tenant's staff (or, with an empty Tenant,
// a platform operator), as last seen at sign-in.
type StaffMember struct {
	// User is the identity provider's subject (authz.Subject.User): the id
	// used in manager assignments.
	User string `json:"user"`
	// Name is the display name claim at the last recorded sign-in (users
	// may edit it: it never identifies anyone).
	Name  string   `json:"name,omitempty"`
	Roles []string `json:"roles"`
	// Tenant is the home tenant; "" for operators.
	Tenant    string    `json:"tenant,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	// LastSeen is the last recorded sign-in. It is written at most once an
	// hour per member, so it may be up to StaffSeenPrecision old.
	LastSeen time.Time `json:"last_seen"`
}

// StaffSeenPrecision is how often, at most, a member's LastSeen is
// written: a sign-in within this time of the recorded one writes nothing
// (unless the name, roles or home tenant changed).
const StaffSeenPrecision = time.Hour

// staffDoc is a tenant's directory as stored: one object per tenant,
// changed with compare-and-swap.
type staffDoc struct {
	Members []StaffMember `json:"members"`
}

// staffTenantRe is the tenant id form (as the configuration requires); a
// home-tenant claim of any other form is not recorded.
var staffTenantRe = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)

// StaffKey is where the directory of tenant is stored; "" is the
// operators' directory.
func StaffKey(tenant string) string {
	if tenant == "" {
		return "staff/platform.json"
	}
	return "staff/tenants/" + tenant + ".json"
}

// StaffDirectory records the staff who sign in, per home tenant, in the
// object store (the system of record; nothing of it is in Redis). Safe for
// concurrent use, also from several instances sharing the store.
//
// Each instance remembers what it wrote for a member in the last
// StaffSeenPrecision, so repeated sign-ins (and bearer-token calls) cost
// no store call; after a failed write it waits a minute before trying
// again for that member.
type StaffDirectory struct {
	store objstore.Store
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	written map[string]staffSeen // tenant + "\x00" + user → last write
}

type staffSeen struct {
	at, retry time.Time
	name      string
	roles     []string
}

// NewStaffDirectory keeps the directory in store; log may be nil.
func NewStaffDirectory(store objstore.Store, log *slog.Logger) *StaffDirectory {
	if log == nil {
		log = slog.Default()
	}
	return &StaffDirectory{store: store, log: log, now: time.Now, written: map[string]staffSeen{}}
}

// directoryRoles are the roles a directory member can hold; others are not
// recorded.
var directoryRoles = []string{authz.RoleOperator, authz.RolePartnerAdmin, authz.RoleCustomerManager}

// Record notes that s signed in with display name name: a new member is
// added (FirstSeen = LastSeen = now), a known one gets its name and roles
// replaced and LastSeen moved to now, at most once per StaffSeenPrecision
// unless name or roles changed. Only staff roles are kept (operator,
// partner_admin, customer_manager); a subject without one, or whose home
// tenant is not a tenant id, is not recorded (nil error). A member is
// recorded under its home tenant (s.Tenant, "" for operators).
//
// Errors: ErrInvalid (a FieldError) for an empty or over-long user id;
// ErrUnavailable (wrapped) when the store fails.
func (d *StaffDirectory) Record(ctx context.Context, s authz.Subject, name string) error {
	if err := checkText("user", s.User, 255, true); err != nil {
		return err
	}
	var roles []string
	for _, r := range directoryRoles {
		if slices.Contains(s.Roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 || (s.Tenant != "" && !staffTenantRe.MatchString(s.Tenant)) {
		return nil
	}
	if checkText("name", name, 128, false) != nil {
		name = ""
	}
	now := d.now().UTC()
	ck := s.Tenant + "\x00" + s.User
	d.mu.Lock()
	w, ok := d.written[ck]
	d.mu.Unlock()
	if ok && (now.Before(w.retry) || (now.Sub(w.at) < StaffSeenPrecision && w.name == name && slices.Equal(w.roles, roles))) {
		return nil
	}
	_, err := d.update(ctx, s.Tenant, func(doc *staffDoc) bool {
		i := slices.IndexFunc(doc.Members, func(m StaffMember) bool { return m.User == s.User })
		if i < 0 {
			doc.Members = append(doc.Members, StaffMember{User: s.User, Name: name, Roles: roles, Tenant: s.Tenant,
				FirstSeen: now, LastSeen: now})
			return true
		}
		m := &doc.Members[i]
		if m.Name == name && slices.Equal(m.Roles, roles) && now.Sub(m.LastSeen) < StaffSeenPrecision {
			return false // another instance recorded it recently
		}
		m.Name, m.Roles, m.LastSeen = name, roles, now
		return true
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.written) > 10000 { // bound memory
		d.written = map[string]staffSeen{}
	}
	if err != nil {
		d.written[ck] = staffSeen{retry: now.Add(time.Minute)}
		return err
	}
	d.written[ck] = staffSeen{at: now, name: name, roles: roles}
	return nil
}

// update applies fn to the tenant's directory with compare-and-swap; fn
// reports whether it changed anything (nothing is written otherwise).
func (d *StaffDirectory) update(ctx context.Context, tenant string, fn func(*staffDoc) bool) (bool, error) {
	for attempt := 0; attempt < 10; attempt++ {
		doc, etag, err := d.load(ctx, tenant)
		if err != nil {
			return false, err
		}
		if !fn(&doc) {
			return false, nil
		}
		_, err = objstore.PutJSON(ctx, d.store, StaffKey(tenant), doc, objstore.PutOptions{IfMatch: etag, IfNoneMatch: etag == ""})
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			continue
		}
		if err != nil {
			return false, unavailable("write staff directory", err)
		}
		return true, nil
	}
	return false, unavailable("write staff directory", errors.New("too much contention"))
}

func (d *StaffDirectory) load(ctx context.Context, tenant string) (staffDoc, string, error) {
	doc, obj, err := objstore.GetJSON[staffDoc](ctx, d.store, StaffKey(tenant))
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return staffDoc{}, "", nil
	case err != nil:
		return staffDoc{}, "", unavailable("read staff directory", err)
	}
	return doc, obj.ETag, nil
}

// List returns the members of tenant's staff ("" lists the operators),
// ordered by display name, then user id. Errors: ErrInvalid (a FieldError)
// for a malformed tenant id; ErrUnavailable (wrapped) when the store fails.
func (d *StaffDirectory) List(ctx context.Context, tenant string) ([]StaffMember, error) {
	if tenant != "" && !staffTenantRe.MatchString(tenant) {
		return nil, invalid("tenant", "is not a tenant id")
	}
	doc, _, err := d.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := doc.Members
	if out == nil {
		out = []StaffMember{}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].User < out[j].User
	})
	return out, nil
}

// Get returns the member user of tenant's staff. Errors: ErrUnknownStaff
// (an *UnknownStaffError) when there is none; ErrInvalid for a malformed
// tenant id; ErrUnavailable (wrapped) when the store fails.
func (d *StaffDirectory) Get(ctx context.Context, tenant, user string) (StaffMember, error) {
	list, err := d.List(ctx, tenant)
	if err != nil {
		return StaffMember{}, err
	}
	for _, m := range list {
		if m.User == user {
			return m, nil
		}
	}
	return StaffMember{}, &UnknownStaffError{Tenant: tenant, IDs: []string{user}}
}

// Unknown returns those of users that are not members of tenant's staff,
// in their order (nil when every one is known), with one store read.
// Errors: as List's.
func (d *StaffDirectory) Unknown(ctx context.Context, tenant string, users []string) ([]string, error) {
	if len(users) == 0 {
		return nil, nil
	}
	list, err := d.List(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, u := range users {
		if !slices.ContainsFunc(list, func(m StaffMember) bool { return m.User == u }) {
			unknown = append(unknown, u)
		}
	}
	return unknown, nil
}
