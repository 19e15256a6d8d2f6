package delegation

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/internal/objstore"
)

// ActionRecord is one request a delegated session made in the customer's
// console (the customer's activity log). Stored create-only under
// delegation/<tenant>/actions/<customer>/<time>-<id>.json.
type ActionRecord struct {
	Grant     string        `json:"grant"`
	Tenant    string        `json:"tenant"`
	Customer  string        `json:"customer"`
	Actor     authz.Subject `json:"actor"`
	Method    string        `json:"method"`
	Path      string        `json:"path"`
	Allowed   bool          `json:"allowed"`
	Reason    string        `json:"reason,omitempty"` // why denied (e.g. the missing scope), or a note
	At        time.Time     `json:"at"`
	RequestID string        `json:"request_id,omitempty"`
	// Name is the record's object name (the cursor form); set when read.
	Name string `json:"-"`
}

// Bounds of an action record.
const (
	MaxPathBytes = 2048
)

var methodRe = regexp.MustCompile(`^[A-Z]{1,16}$`)

// RecordAction stores a durably before it returns; the gateway refuses a
// delegated mutation whose RecordAction failed (never forwards it
// unaudited). A zero At is the service's clock. Recording the same
// RequestID at the same At again stores it once (a retry); without a
// RequestID every call stores a record. Errors: ErrInvalidArgument (ids,
// an actor without user, a method that is not 1-16 upper-case letters, a
// path that is empty, longer than MaxPathBytes or not UTF-8, a reason
// over MaxReasonRunes), else the store's (wrapped).
func (s *Service) RecordAction(ctx context.Context, a ActionRecord) error {
	if err := checkIDs(a.Tenant, a.Customer); err != nil {
		return err
	}
	switch {
	case a.Customer == "":
		return fmt.Errorf("%w: customer id required", ErrInvalidArgument)
	case !ValidGrantID(a.Grant):
		return fmt.Errorf("%w: grant id %q", ErrInvalidArgument, a.Grant)
	case !methodRe.MatchString(a.Method):
		return fmt.Errorf("%w: method %q", ErrInvalidArgument, a.Method)
	case a.Path == "" || len(a.Path) > MaxPathBytes || !utf8.ValidString(a.Path):
		return fmt.Errorf("%w: path", ErrInvalidArgument)
	case utf8.RuneCountInString(a.Reason) > MaxReasonRunes || !utf8.ValidString(a.Reason):
		return fmt.Errorf("%w: reason", ErrInvalidArgument)
	}
	if err := checkUser(a.Actor); err != nil {
		return err
	}
	if a.At.IsZero() {
		a.At = s.clock()
	}
	a.At = a.At.UTC()
	suffix := ids.Hex(8)
	if a.RequestID != "" && idRe.MatchString(a.RequestID) {
		suffix = a.RequestID
	}
	key := actionPrefix(a.Tenant, a.Customer) + a.At.Format(actionTime) + "-" + suffix + ".json"
	if _, err := objstore.PutJSON(ctx, s.store, key, a, createOnly()); err != nil && !isPrecondition(err) {
		return fmt.Errorf("delegation: record action: %w", err)
	}
	return nil
}

const actionTime = ids.TimeLayout

var actionNameRe = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{9}Z-[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.json$`)

// ActionFilter selects action records. Zero fields select everything:
// Actor an exact Actor.User, Grant an exact grant id, Allowed "allowed"
// or "denied", and [Since, Until) a time window.
type ActionFilter struct {
	Actor   string
	Grant   string
	Allowed string
	Since   time.Time
	Until   time.Time
}

// Match reports whether a is selected by f.
func (f ActionFilter) Match(a ActionRecord) bool {
	switch {
	case f.Actor != "" && a.Actor.User != f.Actor,
		f.Grant != "" && a.Grant != f.Grant,
		f.Allowed == "allowed" && !a.Allowed,
		f.Allowed == "denied" && a.Allowed,
		!f.Since.IsZero() && a.At.Before(f.Since),
		!f.Until.IsZero() && !a.At.Before(f.Until):
		return false
	}
	return true
}

// ActionPage is one page of a customer's activity log, newest first.
type ActionPage struct {
	Actions    []ActionRecord `json:"actions"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// Actions returns a page of customer's activity log, newest first,
// strictly older than cursor ("" = the newest; NextCursor of the previous
// page). limit 0 is DefaultLimit, at most MaxLimit; the export passes
// MaxLimit and follows cursors. Cost: one List of the customer's log;
// records are read only for names the time window lets through, at most
// ScanBudget per page (then the page ends early with a NextCursor).
// Errors: ErrInvalidArgument (ids, limit, an Allowed other than "",
// "allowed", "denied"), ErrBadCursor, a store error.
func (s *Service) Actions(ctx context.Context, tenant, customer string, f ActionFilter, cursor string, limit int) (ActionPage, error) {
	if err := checkIDs(tenant, customer); err != nil {
		return ActionPage{}, err
	}
	switch {
	case customer == "":
		return ActionPage{}, fmt.Errorf("%w: customer id required", ErrInvalidArgument)
	case limit < 0 || limit > MaxLimit:
		return ActionPage{}, fmt.Errorf("%w: limit %d (1-%d)", ErrInvalidArgument, limit, MaxLimit)
	case f.Allowed != "" && f.Allowed != "allowed" && f.Allowed != "denied":
		return ActionPage{}, fmt.Errorf("%w: allowed filter %q", ErrInvalidArgument, f.Allowed)
	case cursor != "" && !actionNameRe.MatchString(cursor):
		return ActionPage{}, ErrBadCursor
	case limit == 0:
		limit = DefaultLimit
	}
	prefix := actionPrefix(tenant, customer)
	objs, err := s.store.List(ctx, prefix)
	if err != nil {
		return ActionPage{}, fmt.Errorf("delegation: list actions: %w", err)
	}
	names := make([]string, 0, len(objs))
	for _, o := range objs {
		n := strings.TrimPrefix(o.Key, prefix)
		if !actionNameRe.MatchString(n) || (cursor != "" && n >= cursor) {
			continue
		}
		at, err := time.Parse(actionTime, n[:len(actionTime)])
		if err != nil || (!f.Since.IsZero() && at.Before(f.Since)) || (!f.Until.IsZero() && !at.Before(f.Until)) {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	slices.Reverse(names)
	page := ActionPage{Actions: []ActionRecord{}}
	for i, n := range names {
		if len(page.Actions) == limit || i == ScanBudget {
			page.NextCursor = names[i-1]
			break
		}
		a, _, err := objstore.GetJSON[ActionRecord](ctx, s.store, prefix+n)
		if errors.Is(err, objstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return ActionPage{}, fmt.Errorf("delegation: read action: %w", err)
		}
		a.Name = n
		if f.Match(a) {
			page.Actions = append(page.Actions, a)
		}
	}
	return page, nil
}

// ActionCSVHeader is the header row of WriteActionsCSV.
var ActionCSVHeader = []string{"time", "actor", "method", "path", "allowed", "reason", "grant", "request_id"}

// WriteActionsCSV writes as as CSV (RFC 4180, CRLF line ends) with
// ActionCSVHeader. Every cell a spreadsheet would read as a formula is
// neutralized as tenants.SafeCSVCell does (a leading single quote), so a
// path or reason chosen by whoever made the request cannot run in the
// customer's spreadsheet. Errors are w's.
func WriteActionsCSV(w io.Writer, as []ActionRecord) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(ActionCSVHeader); err != nil {
		return err
	}
	for i := range as {
		a := &as[i]
		row := []string{a.At.UTC().Format(time.RFC3339Nano), a.Actor.User, a.Method, a.Path,
			strconv.FormatBool(a.Allowed), a.Reason, a.Grant, a.RequestID}
		for j := range row {
			row[j] = safeCSVCell(row[j])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCSVCell is tenants.SafeCSVCell (a test keeps them equal; the
// domain packages do not import each other): a cell starting, after any
// spaces, with =, +, -, @, a tab or a carriage return gets a leading
// single quote.
func safeCSVCell(v string) string {
	if t := strings.TrimLeft(v, " "); t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return "'" + v
	}
	return v
}
