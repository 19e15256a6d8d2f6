package tenants

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Paging and export bounds of Customers.Page and Customers.Export.
const (
	// DefaultPageSize is a page's size when Search.Limit is 0.
	DefaultPageSize = 20
	// MaxPageSize is the largest Search.Limit.
	MaxPageSize = 100
	// MaxExportRows is how many customers one export holds at most.
	MaxExportRows = 10000
)

// Search selects and pages a tenant's customers for staff (the admin API's
// and the staff UI's customer list). Zero values mean "any". It is
// separate from Query, whose fields keep the partner API's semantics.
type Search struct {
	// Q matches, case-insensitively, a substring of the account name, the
	// customer (cloud account) id or the partner-platform account id.
	Q               string
	AssociationType string
	// Manager keeps the customers that this user id manages.
	Manager string
	// Scope, when set, keeps only customers managed by one of these user
	// ids: a customer manager's own visibility (authz.CanSeeCustomer),
	// applied on top of the other filters.
	Scope []string
	// Cursor is a Page's NextCursor: the page starts after that customer.
	Cursor string
	// Limit is the page size, 1..MaxPageSize; 0 is DefaultPageSize.
	Limit int
}

// Page is one page of a Search.
type Page struct {
	Customers []Customer
	// Total is how many customers match the search (all pages).
	Total int
	// NextCursor continues after the last customer of this page; "" on the
	// last page.
	NextCursor string
}

const maxSearchRunes = 64

func (q *Search) check() error {
	if err := checkText("q", q.Q, maxSearchRunes, false); err != nil {
		return err
	}
	if err := checkText("association_type", q.AssociationType, 8, false); err != nil {
		return err
	}
	if err := checkText("manager", q.Manager, 64, false); err != nil {
		return err
	}
	if q.Limit < 0 || q.Limit > MaxPageSize {
		return invalid("limit", "must be 1-%d", MaxPageSize)
	}
	return nil
}

func (q *Search) matches(c *Customer) bool {
	if q.Q != "" {
		sub := strings.ToLower(q.Q)
		if !strings.Contains(strings.ToLower(c.DomainName), sub) && !strings.Contains(strings.ToLower(c.DomainID), sub) &&
			!strings.Contains(strings.ToLower(c.XAccountID), sub) {
			return false
		}
	}
	if q.AssociationType != "" && c.AssociationType != q.AssociationType {
		return false
	}
	if q.Manager != "" && !slices.Contains(c.Managers, q.Manager) {
		return false
	}
	if len(q.Scope) > 0 && !slices.ContainsFunc(q.Scope, func(m string) bool { return slices.Contains(c.Managers, m) }) {
		return false
	}
	return true
}

// cursor is the list-order key of a customer: association time and
// account name (unique), base64url-encoded; opaque to clients.
func cursorOf(c *Customer) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.AssociatedOn.UTC().Format(time.RFC3339Nano) + "|" + c.DomainName))
}

func parseCursor(s string) (Customer, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	at, name, ok := strings.Cut(string(b), "|")
	if err != nil || !ok || !utf8.ValidString(name) {
		return Customer{}, invalid("cursor", "is not a cursor of this list (use next_cursor as it was returned)")
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return Customer{}, invalid("cursor", "is not a cursor of this list (use next_cursor as it was returned)")
	}
	return Customer{AssociatedOn: t, DomainName: name}, nil
}

// Page answers one page of a search, in list order (newest association
// first, then by account name). Paging is by keyset: a cursor names the
// position after the last customer shown, so customers registered or
// changed meanwhile neither repeat nor shift later pages.
//
// Errors: a *FieldError (ErrInvalid) for a malformed filter, limit or
// cursor; ErrUnavailable (wrapped) when the index or store fails.
func (s *Customers) Page(ctx context.Context, tenant string, q Search) (Page, error) {
	if err := q.check(); err != nil {
		return Page{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultPageSize
	}
	var after *Customer
	if q.Cursor != "" {
		c, err := parseCursor(q.Cursor)
		if err != nil {
			return Page{}, err
		}
		after = &c
	}
	if q.Q == "" {
		// The index answers it: one window after the cursor, one more
		// than the page to know whether another page follows.
		sel := q.selection()
		sel.Limit = limit + 1
		if after != nil {
			sel.After = &Position{AssociatedOn: after.AssociatedOn, DomainName: after.DomainName}
		}
		cs, total, err := s.selectCustomers(ctx, tenant, sel)
		if err != nil {
			return Page{}, err
		}
		p := Page{Total: total, Customers: cs}
		if len(cs) > limit {
			p.Customers = cs[:limit]
			p.NextCursor = cursorOf(&cs[limit-1])
		}
		return p, nil
	}
	hits, err := s.matching(ctx, tenant, q.matches)
	if err != nil {
		return Page{}, err
	}
	p := Page{Total: len(hits)}
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(hits, after, func(c Customer, k *Customer) int {
			switch {
			case listBefore(&c, k):
				return -1
			case listBefore(k, &c):
				return 1
			}
			return 0
		})
		if start < len(hits) && !listBefore(after, &hits[start]) {
			start++ // the cursor's own customer
		}
	}
	end := min(start+limit, len(hits))
	p.Customers = hits[start:end]
	if p.Customers == nil {
		p.Customers = []Customer{}
	}
	if end < len(hits) {
		p.NextCursor = cursorOf(&hits[end-1])
	}
	return p, nil
}

// Export returns every customer matching the search (Cursor and Limit are
// ignored), in list order, at most MaxExportRows; truncated reports that
// more matched. Errors: as Page's.
func (s *Customers) Export(ctx context.Context, tenant string, q Search) (cs []Customer, truncated bool, err error) {
	q.Cursor, q.Limit = "", 0
	if err := q.check(); err != nil {
		return nil, false, err
	}
	var hits []Customer
	if q.Q == "" {
		sel := q.selection()
		sel.Limit = MaxExportRows + 1
		if hits, _, err = s.selectCustomers(ctx, tenant, sel); err != nil {
			return nil, false, err
		}
	} else if hits, err = s.matching(ctx, tenant, q.matches); err != nil {
		return nil, false, err
	}
	if len(hits) > MaxExportRows {
		return hits[:MaxExportRows], true, nil
	}
	return hits, false, nil
}

// CustomerCSVHeader is the header row of WriteCustomersCSV.
var CustomerCSVHeader = []string{"customer_id", "account_name", "xaccount_type", "xaccount_id", "association_type",
	"associated_on", "managers", "label"}

// WriteCustomersCSV writes cs as CSV (RFC 4180, CRLF line ends) with
// CustomerCSVHeader; managers are joined with ";". Every cell that a
// spreadsheet would read as a formula (starting with =, +, -, @, a tab or
// a carriage return, after any spaces) is prefixed with a single quote, so an exported value
// chosen by a partner platform or a user cannot run in the reader's
// spreadsheet. Errors are w's.
func WriteCustomersCSV(w io.Writer, cs []Customer) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(CustomerCSVHeader); err != nil {
		return err
	}
	for i := range cs {
		c := &cs[i]
		at := ""
		if !c.AssociatedOn.IsZero() {
			at = c.AssociatedOn.UTC().Format(time.RFC3339)
		}
		row := []string{c.DomainID, c.DomainName, c.XAccountType, c.XAccountID, c.AssociationType, at,
			strings.Join(c.Managers, ";"), c.Label}
		for j := range row {
			row[j] = SafeCSVCell(row[j])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SafeCSVCell neutralizes a cell a spreadsheet would evaluate: one
// starting (after any spaces) with =, +, -, @, a tab or a carriage return
// gets a leading single quote (OWASP's CSV injection advice). Other cells
// are unchanged.
func SafeCSVCell(v string) string {
	if t := strings.TrimLeft(v, " "); t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return "'" + v
	}
	return v
}
