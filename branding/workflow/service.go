package workflow

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
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/images"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/internal/objstore"
)

// Options configures a Service. Zero fields take defaults.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Audit receives every audit record (default: the audit.Log of
	// AuditStream on the service's store). Service.Audit needs it to be an
	// audit.Reader too.
	Audit audit.Sink
	// Validate tunes document validation.
	Validate branding.ValidateOptions
	// Images bounds uploaded logos (zero fields: images.DefaultLimits).
	Images images.Limits
	// Holidays and Location define working days for due dates (Location
	// default UTC).
	Holidays Holidays
	Location *time.Location
	// Notifier, if set, is told after every live-pointer change.
	Notifier Notifier
	// Announcer, if set, is told approvals, rejections and rollbacks (for
	// the partner).
	Announcer Announcer
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Service runs the branding workflow on an object store. It is stateless
// and safe for concurrent use, also from several processes sharing the
// store. All methods take the tenant id first after ctx; a malformed tenant
// id or an actor without User is ErrInvalidArgument. Store failures are
// returned wrapped (they wrap none of this package's sentinels).
type Service struct {
	store     objstore.Store
	now       func() time.Time
	audit     audit.Sink
	validate  branding.ValidateOptions
	limits    images.Limits
	holidays  Holidays
	loc       *time.Location
	notifier  Notifier
	announcer Announcer
	log       *slog.Logger
}

// New returns a Service on store.
func New(store objstore.Store, o Options) *Service {
	s := &Service{store: store, now: o.Now, audit: o.Audit, validate: o.Validate, limits: o.Images,
		holidays: o.Holidays, loc: o.Location, notifier: o.Notifier, announcer: o.Announcer, log: o.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.audit == nil {
		s.audit = audit.NewLog(store, AuditStream)
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Object keys (see the package documentation).
func draftKey(t string) string          { return "drafts/" + t + ".json" }
func assetKey(sha, ext string) string   { return "assets/" + sha + "." + ext }
func submissionPrefix(t string) string  { return "submissions/" + t + "/" }
func submissionKey(t, id string) string { return submissionPrefix(t) + id + ".json" }
func decisionPrefix(t string) string    { return "decisions/" + t + "/" }
func decisionKey(t, id string) string   { return decisionPrefix(t) + id + ".json" }
func pendingKey(t string) string        { return "pending/" + t + ".json" }
func versionPrefix(t string) string     { return "versions/" + t + "/" }
func versionKey(t string, n int) string { return fmt.Sprintf("%s%010d.json", versionPrefix(t), n) }
func liveKey(t string) string           { return "live/" + t + ".json" }
func isNotFound(err error) bool         { return errors.Is(err, objstore.ErrNotFound) }
func isPrecondition(err error) bool     { return errors.Is(err, objstore.ErrPreconditionFailed) }
func createOnly() objstore.PutOptions   { return objstore.PutOptions{IfNoneMatch: true} }

// condition is create-only for etag "", else compare-and-swap on etag.
func condition(etag string) objstore.PutOptions {
	if etag == "" {
		return createOnly()
	}
	return objstore.PutOptions{IfMatch: etag}
}

var (
	tenantRe       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	submissionIDRe = regexp.MustCompile(`^[0-9]{8}T[0-9]{15}Z-[0-9a-f]{8}$`)
)

// ValidTenant reports whether id is usable as a tenant id in object keys:
// 1–64 ASCII letters, digits, '_' or '-', starting with a letter or digit.
func ValidTenant(id string) bool { return tenantRe.MatchString(id) }

func checkTenant(tenant string) error {
	if !ValidTenant(tenant) {
		return fmt.Errorf("%w: tenant id %q", ErrInvalidArgument, tenant)
	}
	return nil
}

func checkActor(tenant string, a authz.Subject) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	if strings.TrimSpace(a.User) == "" {
		return fmt.Errorf("%w: actor user required", ErrInvalidArgument)
	}
	return nil
}

// reason trims r and checks its length; required says whether empty is an
// error.
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

// newSubmissionID returns a chronologically sortable id.
func newSubmissionID(t time.Time) string { return ids.Sortable(t) }

func (s *Service) clock() time.Time { return s.now().UTC() }

// getJSON reads key; found is false (with nil error) when it is missing.
func getJSON[T any](ctx context.Context, st objstore.Store, key string) (v T, etag string, found bool, err error) {
	v, etag, found, err = objstore.LookupJSON[T](ctx, st, key)
	if err != nil {
		err = fmt.Errorf("workflow: read %s: %w", key, err)
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
