package tenants

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/livery/livery/internal/audit"
)

// KeyUsage keeps when each access key last authenticated a partner API
// call. It is a rebuildable convenience (in production Redis:
// tenants/keyusage): losing it loses only last-used times, never a key.
type KeyUsage interface {
	// Touch records that tenant's key ak was used at at.
	Touch(ctx context.Context, tenant, ak string, at time.Time) error
	// LastUsed returns the recorded times of tenant's keys (keys never
	// recorded are absent).
	LastUsed(ctx context.Context, tenant string) (map[string]time.Time, error)
}

// AccessKey is a tenant's access key as the admin API and the staff UI
// show it: no secret.
type AccessKey struct {
	KeyInfo
	// LastUsedAt is when the key last authenticated a partner API call, to
	// KeyUsedPrecision; nil when not known (never used, or used only before
	// the usage store lost its data or while it was unavailable).
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// KeyUsedPrecision is how often, at most, one instance records a key's
// use: last-used times are this precise.
const KeyUsedPrecision = time.Minute

// Deadlines of the usage store's calls: a partner call never waits longer
// than usageTouchTimeout for it (once a minute per key), a listing not
// longer than usageReadTimeout.
const (
	usageTouchTimeout = 250 * time.Millisecond
	usageReadTimeout  = time.Second
)

// AccessKeysOptions wires an AccessKeys service.
type AccessKeysOptions struct {
	Credentials *Credentials
	// Usage, when set, records and reports last-used times.
	Usage  KeyUsage
	Audit  audit.Sink
	Logger *slog.Logger
	Now    func() time.Time
}

// AccessKeys manages a tenant's partner access keys for staff (list,
// create, revoke, each change audited) and tracks their use.
type AccessKeys struct {
	o    AccessKeysOptions
	mu   sync.Mutex
	used map[string]time.Time // ak → last Touch by this instance
}

// NewAccessKeys builds the service; Credentials and Audit are required.
func NewAccessKeys(o AccessKeysOptions) *AccessKeys {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &AccessKeys{o: o, used: map[string]time.Time{}}
}

// List returns the tenant's keys, revoked ones included, oldest first,
// with their last-used times. A failure of the usage store only leaves
// LastUsedAt nil (logged). Errors: ErrUnavailable (wrapped) when the
// credential store fails.
func (k *AccessKeys) List(ctx context.Context, tenant string) ([]AccessKey, error) {
	infos, err := k.o.Credentials.List(ctx, tenant)
	if err != nil {
		return nil, unavailable("list access keys", err)
	}
	var used map[string]time.Time
	if k.o.Usage != nil && len(infos) > 0 {
		uctx, cancel := context.WithTimeout(ctx, usageReadTimeout)
		used, err = k.o.Usage.LastUsed(uctx, tenant)
		cancel()
		if err != nil {
			k.o.Logger.Warn("access keys: last-used times unavailable", "tenant", tenant, "err", err)
		}
	}
	out := make([]AccessKey, 0, len(infos))
	for _, info := range infos {
		a := AccessKey{KeyInfo: info}
		if t, ok := used[info.AccessKey]; ok {
			t = t.UTC()
			a.LastUsedAt = &t
		}
		out = append(out, a)
	}
	return out, nil
}

// Create makes a new access key for tenant, audits it (EventKeyCreate) and
// returns it with its secret, which is never available again. If the
// audit record cannot be written the new key is revoked again, so no key
// exists that the audit trail does not show. Errors: ErrTooManyKeys (the
// tenant has MaxActiveKeys active keys); ErrUnavailable (wrapped) when the
// store fails.
func (k *AccessKeys) Create(ctx context.Context, actor Actor, tenant string) (AccessKey, string, error) {
	info, sk, err := k.o.Credentials.Create(ctx, tenant)
	if errors.Is(err, ErrTooManyKeys) {
		return AccessKey{}, "", err
	}
	if err != nil {
		return AccessKey{}, "", unavailable("create access key", err)
	}
	if err := k.record(ctx, actor, EventKeyCreate, tenant, info.AccessKey); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := k.o.Credentials.Revoke(rctx, tenant, info.AccessKey); rerr != nil {
			k.o.Logger.Error("access key created, not audited, and could not be revoked: revoke it", "tenant", tenant,
				"access_key", info.AccessKey, "err", rerr)
		}
		return AccessKey{}, "", unavailable("access key not audited, so it was revoked", err)
	}
	return AccessKey{KeyInfo: info}, sk, nil
}

// Revoke revokes tenant's key ak and audits it (EventKeyRevoke). Revoking
// a key that is already revoked changes nothing and is not audited again:
// it answers the key as it is. Errors: ErrUnknownKey when tenant has no
// such key; ErrUnavailable (wrapped) when the store fails, or when the key
// was revoked but the revocation could not be audited.
func (k *AccessKeys) Revoke(ctx context.Context, actor Actor, tenant, ak string) (AccessKey, error) {
	find := func() (AccessKey, error) {
		list, err := k.List(ctx, tenant)
		if err != nil {
			return AccessKey{}, err
		}
		for _, a := range list {
			if a.AccessKey == ak {
				return a, nil
			}
		}
		return AccessKey{}, ErrUnknownKey
	}
	a, err := find()
	if err != nil || a.RevokedAt != nil {
		return a, err
	}
	switch err := k.o.Credentials.Revoke(ctx, tenant, ak); {
	case errors.Is(err, ErrUnknownKey):
		return find() // revoked concurrently: answer it as it is now
	case err != nil:
		return AccessKey{}, unavailable("revoke access key", err)
	}
	if err := k.record(ctx, actor, EventKeyRevoke, tenant, ak); err != nil {
		return AccessKey{}, unavailable("access key revoked but not audited", err)
	}
	return find()
}

func (k *AccessKeys) record(ctx context.Context, actor Actor, event, tenant, ak string) error {
	err := k.o.Audit.Record(ctx, audit.Record{Event: event, Tenant: tenant, Actor: actor.Subject, KeyID: ak,
		RequestID: actor.RequestID, Source: actor.Source, Result: "ok"})
	if err != nil {
		k.o.Logger.Error("access keys: audit record failed", "event", event, "tenant", tenant, "access_key", ak,
			"user", actor.Subject.User, "err", err)
	}
	return err
}

// Used notes that tenant's key ak authenticated a partner API call. It
// writes to the usage store at most once per KeyUsedPrecision per key and
// instance, with a short deadline, and never fails the call: an error is
// logged and the use is recorded at the next use after KeyUsedPrecision.
func (k *AccessKeys) Used(ctx context.Context, tenant, ak string) {
	if k.o.Usage == nil {
		return
	}
	now := k.o.Now()
	k.mu.Lock()
	last, ok := k.used[ak]
	if ok && now.Sub(last) < KeyUsedPrecision {
		k.mu.Unlock()
		return
	}
	if len(k.used) > 10000 { // bound memory (keys are few; this never triggers in practice)
		k.used = map[string]time.Time{}
	}
	k.used[ak] = now
	k.mu.Unlock()
	tctx, cancel := context.WithTimeout(ctx, usageTouchTimeout)
	defer cancel()
	if err := k.o.Usage.Touch(tctx, tenant, ak, now); err != nil {
		// Not retried before KeyUsedPrecision passes: a slow usage store
		// costs a partner call the deadline at most once a minute per key.
		k.o.Logger.Warn("access keys: last-used time not recorded", "tenant", tenant, "err", err)
	}
}
