// Package audit is Livery's one audit trail: the Record every audited
// action writes (the partner API, the branding workflow and delegated
// operations), the Sink it is written through, the Reader that lists it
// back, and Log, their object-store implementation.
//
// Records are kept in streams, one per domain, named by the domain that
// owns the events ("partner": tenants, "branding": branding/workflow,
// "delegation": delegation); the event names belong to their domain too. A Log writes and reads one
// stream, so a reader of branding records never walks the partner API's.
//
// # Object layout
//
//	audit/<tenant>/<stream>/<time>-<event>-<id>.json
//
// One immutable object per record, written create-only. <time> is the
// record's time in UTC as 20060102T150405.000000000Z, so a stream lists
// oldest first and a day ("…/<stream>/20260213") is a key prefix. Branding
// records have always been stored so. Partner API records written before
// the streams were introduced are under
// audit/<tenant>/<yyyy>/<mm>/<dd>/<hhmmss.nnnnnnnnn>-<event>-<id>.json with
// the same JSON fields; nothing lists them.
package audit

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/internal/objstore"
)

// Record is one durable audit entry. (Tenant, Time, Event, ID) identify it:
// recording the same four again stores it once. Fields a domain does not
// use stay empty and are not stored.
type Record struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Event  string    `json:"event"`
	Tenant string    `json:"tenant"` // the tenant the action concerns
	// Actor is the person who acted, as authenticated by the caller; zero
	// for a machine caller (the partner API is called by the partner's
	// platform: see KeyID).
	Actor authz.Subject `json:"actor,omitzero"`
	// Branding: the submission and the version concerned.
	SubmissionID string `json:"submission_id,omitempty"`
	Version      int    `json:"version,omitempty"`
	// Delegated operations: the grant concerned (the customer is
	// DomainID).
	GrantID string `json:"grant_id,omitempty"`
	// Reason is the reason given (a rejection, a rollback) or the cause of
	// a failure; Detail is free-form context.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Partner API: the access key used, the partner-platform account and
	// the cloud account concerned, and the outcome ("ok" or the error code
	// answered).
	KeyID        string `json:"key_id,omitempty"`
	XAccountType string `json:"xaccount_type,omitempty"`
	XAccountID   string `json:"xaccount_id,omitempty"`
	DomainID     string `json:"domain_id,omitempty"`
	Result       string `json:"result,omitempty"`
	// Source is the client address and RequestID the request id of the
	// request that caused the record.
	Source    string `json:"source,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// ErrInvalid: a record or a tenant id that cannot be stored or listed (a
// malformed tenant, event or id, an empty event).
var ErrInvalid = errors.New("audit: invalid record")

// Sink stores audit records durably. Record returns only once r is
// durable; recording an identical (Tenant, Time, Event, ID) again succeeds
// without duplicating it. An empty ID or a zero Time is filled in (a
// random id, the current time). Errors: ErrInvalid (wrapped) for a record
// that cannot be stored, else the backend's.
type Sink interface {
	Record(ctx context.Context, r Record) error
}

// Reader lists a tenant's records, oldest first. Errors: ErrInvalid
// (wrapped) for a malformed tenant id, else the backend's.
type Reader interface {
	Records(ctx context.Context, tenant string) ([]Record, error)
}

var (
	tenantRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	streamRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	eventRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	idRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
)

// Log is the object-store Sink and Reader of one stream. Safe for
// concurrent use, also from several processes sharing the store.
type Log struct {
	store  objstore.Store
	stream string
}

var (
	_ Sink   = (*Log)(nil)
	_ Reader = (*Log)(nil)
)

// NewLog returns the log of stream on store. It panics when stream is not
// 1–32 lower-case letters, digits and '-' starting with a letter: stream
// names are constants of the domains.
func NewLog(store objstore.Store, stream string) *Log {
	if !streamRe.MatchString(stream) {
		panic(fmt.Sprintf("audit: invalid stream name %q", stream))
	}
	return &Log{store: store, stream: stream}
}

func (l *Log) prefix(tenant string) string { return "audit/" + tenant + "/" + l.stream + "/" }

func (l *Log) key(r Record) string {
	return l.prefix(r.Tenant) + r.Time.UTC().Format(ids.TimeLayout) + "-" + r.Event + "-" + r.ID + ".json"
}

// Record implements Sink: it writes r create-only, an existing record with
// the same key counting as success.
func (l *Log) Record(ctx context.Context, r Record) error {
	if r.ID == "" {
		r.ID = ids.Hex(16)
	}
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	switch {
	case !tenantRe.MatchString(r.Tenant):
		return fmt.Errorf("%w: tenant %q", ErrInvalid, r.Tenant)
	case !eventRe.MatchString(r.Event):
		return fmt.Errorf("%w: event %q", ErrInvalid, r.Event)
	case !idRe.MatchString(r.ID):
		return fmt.Errorf("%w: id %q", ErrInvalid, r.ID)
	}
	_, err := objstore.PutJSON(ctx, l.store, l.key(r), r, objstore.PutOptions{IfNoneMatch: true})
	if err != nil && !errors.Is(err, objstore.ErrPreconditionFailed) {
		return fmt.Errorf("audit: record %s: %w", r.Event, err)
	}
	return nil
}

// Records implements Reader.
func (l *Log) Records(ctx context.Context, tenant string) ([]Record, error) {
	if !tenantRe.MatchString(tenant) {
		return nil, fmt.Errorf("%w: tenant %q", ErrInvalid, tenant)
	}
	objs, err := l.store.List(ctx, l.prefix(tenant))
	if err != nil {
		return nil, fmt.Errorf("audit: list %s: %w", l.stream, err)
	}
	out := make([]Record, 0, len(objs))
	for _, o := range objs {
		r, _, err := objstore.GetJSON[Record](ctx, l.store, o.Key)
		if err != nil {
			return nil, fmt.Errorf("audit: read %s: %w", l.stream, err)
		}
		out = append(out, r)
	}
	return out, nil
}
