package tenants

import (
	"slices"
	"strings"
	"time"
)

// Selection is a customer query as an Index answers it: every condition
// must hold, the matches are in list order (newest association first,
// then by account name), and Offset and Limit cut one window of them.
// Query (the partner API) and Search without Q (staff) translate to it.
type Selection struct {
	// CustomerID, when set, keeps only the customer with this cloud
	// account id (DomainID).
	CustomerID string
	// Groups must each hold: a customer satisfies a group when it has any
	// of the group's terms (an empty group never holds).
	Groups [][]Term
	// Begin and End bound AssociatedOn, both inclusive; zero is open.
	// Indexes may resolve association times to the microsecond.
	Begin, End time.Time
	// Contains are case-insensitive (strings.ToLower) substrings that the
	// account name (DomainName) must each contain.
	Contains []string
	// After, when set, starts the window after this list position (keyset
	// paging); Offset then counts from there.
	After *Position
	// Offset skips that many matches; Limit caps the window (0: no cap).
	Offset, Limit int
}

// Term is one indexed value of a customer.
type Term struct {
	Kind  TermKind
	Value string
}

// TermKind names the customer field a Term matches.
type TermKind uint8

// The indexed fields.
const (
	TermAssociationType   TermKind = iota + 1 // Customer.AssociationType
	TermLabel                                 // Customer.Label
	TermIndirectPartnerID                     // Customer.IndirectPartnerID
	TermManager                               // one of Customer.Managers
)

// Position is a place in list order: the customer with this association
// time and account name (which is unique), present or not.
type Position struct {
	AssociatedOn time.Time
	DomainName   string
}

// TermsOf lists the terms a customer has, each once, in a fixed order
// (association type, label, indirect partner, managers in their order).
func TermsOf(c *Customer) []Term {
	var out []Term
	add := func(k TermKind, v string) {
		if v != "" && !slices.Contains(out, Term{k, v}) {
			out = append(out, Term{k, v})
		}
	}
	add(TermAssociationType, c.AssociationType)
	add(TermLabel, c.Label)
	add(TermIndirectPartnerID, c.IndirectPartnerID)
	for _, m := range c.Managers {
		add(TermManager, m)
	}
	return out
}

// Matches reports whether c satisfies every condition of sel (After,
// Offset and Limit aside). It is the definition an Index implements.
func (sel *Selection) Matches(c *Customer) bool {
	if sel.CustomerID != "" && c.DomainID != sel.CustomerID {
		return false
	}
	if !sel.Begin.IsZero() && c.AssociatedOn.Before(sel.Begin) || !sel.End.IsZero() && c.AssociatedOn.After(sel.End) {
		return false
	}
	if len(sel.Contains) > 0 {
		name := strings.ToLower(c.DomainName)
		for _, sub := range sel.Contains {
			if !strings.Contains(name, strings.ToLower(sub)) {
				return false
			}
		}
	}
	if len(sel.Groups) > 0 {
		has := TermsOf(c)
		for _, g := range sel.Groups {
			if !slices.ContainsFunc(g, func(t Term) bool { return slices.Contains(has, t) }) {
				return false
			}
		}
	}
	return true
}

// ListBefore reports whether a comes before b in list order: newest
// association first, then by account name (byte order).
func ListBefore(a, b Position) bool {
	if !a.AssociatedOn.Equal(b.AssociatedOn) {
		return a.AssociatedOn.After(b.AssociatedOn)
	}
	return a.DomainName < b.DomainName
}

// PositionOf is c's place in list order.
func PositionOf(c *Customer) Position {
	return Position{AssociatedOn: c.AssociatedOn, DomainName: c.DomainName}
}

// selection translates a partner query.
func (q *Query) selection() Selection {
	sel := Selection{CustomerID: q.CustomerID, Begin: q.AssociatedOnBegin, End: q.AssociatedOnEnd,
		Offset: q.Offset, Limit: q.Limit}
	for _, s := range []string{q.AccountName, q.Customer} {
		if s != "" {
			sel.Contains = append(sel.Contains, s)
		}
	}
	for _, t := range []Term{{TermAssociationType, q.AssociationType}, {TermLabel, q.Label},
		{TermIndirectPartnerID, q.IndirectPartnerID}} {
		if t.Value != "" {
			sel.Groups = append(sel.Groups, []Term{t})
		}
	}
	if len(q.Managers) > 0 {
		sel.Groups = append(sel.Groups, managerTerms(q.Managers))
	}
	return sel
}

// selection translates a staff search without Q (the index cannot answer
// Q, which spans three fields).
func (q *Search) selection() Selection {
	var sel Selection
	if q.AssociationType != "" {
		sel.Groups = append(sel.Groups, []Term{{TermAssociationType, q.AssociationType}})
	}
	if q.Manager != "" {
		sel.Groups = append(sel.Groups, []Term{{TermManager, q.Manager}})
	}
	if len(q.Scope) > 0 {
		sel.Groups = append(sel.Groups, managerTerms(q.Scope))
	}
	return sel
}

func managerTerms(ms []string) []Term {
	g := make([]Term, 0, len(ms))
	for _, m := range ms {
		if !slices.Contains(g, Term{TermManager, m}) {
			g = append(g, Term{TermManager, m})
		}
	}
	return g
}
