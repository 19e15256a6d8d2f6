package tenants_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/tenants"
)

// TestCustomerPage: search across account name, customer id and xaccount
// id; filters; manager scoping; keyset paging that walks the whole list
// once, also while customers are added between pages.
func TestCustomerPage(t *testing.T) {
	ctx := context.Background()
	b := backends(t)["dir+embedded"](t)
	cs := newService(b, tenants.Builtin{}, nil)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tenants.SetNow(cs, func() time.Time { return at })
	var all []string // account names in list order
	for i := range 25 {
		if i%3 == 0 {
			at = at.Add(time.Hour) // several customers share an association time
		}
		r := reg(fmt.Sprintf("XAcct-%02d", i), fmt.Sprintf("cust_%02d", i), "")
		if i%2 == 1 {
			r.AssociationType = tenants.AssociationReferral
		}
		c, err := cs.Create(ctx, "acme", r, tenants.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if _, err := cs.SetManagers(ctx, "acme", c.DomainID, []string{"cm-a"}); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, c.DomainName)
	}
	if _, err := cs.Create(ctx, "globex", reg("XAcct-99", "cust_globex", ""), tenants.Meta{}); err != nil {
		t.Fatal(err)
	}
	// List order: newest association first, then by name.
	want := slices.Clone(all)
	slices.SortStableFunc(want, func(a, b string) int {
		ga, gb := (int(a[5]-'0')*10+int(a[6]-'0'))/3, (int(b[5]-'0')*10+int(b[6]-'0'))/3
		if ga != gb {
			return gb - ga
		}
		return strings.Compare(a, b)
	})
	names := func(cs []tenants.Customer) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.DomainName)
		}
		return out
	}
	walk := func(q tenants.Search, between func()) ([]string, int) {
		var got []string
		pages := 0
		for {
			p, err := cs.Page(ctx, "acme", q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, names(p.Customers)...)
			if p.NextCursor == "" {
				return got, pages
			}
			q.Cursor = p.NextCursor
			if between != nil {
				between()
			}
		}
	}
	t.Run("pages walk the list once", func(t *testing.T) {
		for _, limit := range []int{1, 7, 25, 100} {
			got, pages := walk(tenants.Search{Limit: limit}, nil)
			if !slices.Equal(got, want) || pages != (25+limit-1)/limit {
				t.Fatalf("limit %d: %d pages %v, want %v", limit, pages, got, want)
			}
		}
		p, err := cs.Page(ctx, "acme", tenants.Search{})
		if err != nil || len(p.Customers) != tenants.DefaultPageSize || p.Total != 25 {
			t.Fatalf("default page: %d customers, total %d, %v", len(p.Customers), p.Total, err)
		}
	})
	t.Run("customers added between pages do not shift the next pages", func(t *testing.T) {
		n := 0
		got, _ := walk(tenants.Search{Limit: 4}, func() {
			at = at.Add(time.Hour) // newer than everything: lands on the first page
			n++
			if _, err := cs.Create(ctx, "acme", reg(fmt.Sprintf("late-%d", n), fmt.Sprintf("late_%02d", n), ""), tenants.Meta{}); err != nil {
				t.Fatal(err)
			}
		})
		if !slices.Equal(got, want) {
			t.Fatalf("walk while adding: %v, want %v", got, want)
		}
	})
	t.Run("search and filters", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			q    tenants.Search
			want []string
		}{
			{"account name, any case", tenants.Search{Q: "CUST_0"}, []string{"cust_00", "cust_01", "cust_02", "cust_03", "cust_04", "cust_05", "cust_06", "cust_07", "cust_08", "cust_09"}},
			{"xaccount id", tenants.Search{Q: "xacct-1"}, []string{"cust_10", "cust_11", "cust_12", "cust_13", "cust_14", "cust_15", "cust_16", "cust_17", "cust_18", "cust_19"}},
			{"association type", tenants.Search{Q: "cust_0", AssociationType: tenants.AssociationReferral}, []string{"cust_01", "cust_03", "cust_05", "cust_07", "cust_09"}},
			{"manager", tenants.Search{Manager: "cm-a"}, []string{"cust_00", "cust_05", "cust_10", "cust_15", "cust_20"}},
			{"scope", tenants.Search{Scope: []string{"cm-a"}, AssociationType: tenants.AssociationReferral}, []string{"cust_05", "cust_15"}},
			{"scope and another manager", tenants.Search{Scope: []string{"cm-a"}, Manager: "cm-b"}, nil},
			{"other tenant's customer", tenants.Search{Q: "globex"}, nil},
		} {
			p, err := cs.Page(ctx, "acme", tc.q)
			got := names(p.Customers)
			slices.Sort(got)
			if err != nil || !slices.Equal(got, tc.want) || p.Total != len(tc.want) {
				t.Errorf("%s: %v total %d %v, want %v", tc.name, got, p.Total, err, tc.want)
			}
		}
		// The customer id is searched too.
		c, _ := cs.ByDomainID(ctx, "acme", mustID(t, cs, "cust_07"))
		if p, err := cs.Page(ctx, "acme", tenants.Search{Q: strings.ToUpper(c.DomainID)}); err != nil || !slices.Equal(names(p.Customers), []string{"cust_07"}) {
			t.Errorf("by customer id: %v %v", names(p.Customers), err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, q := range []tenants.Search{{Cursor: "!!"}, {Cursor: "bm9waXBl"}, {Limit: 101}, {Limit: -1},
			{Q: strings.Repeat("q", 65)}, {Q: "a\x00"}} {
			var fe *tenants.FieldError
			if _, err := cs.Page(ctx, "acme", q); !errors.As(err, &fe) || !errors.Is(err, tenants.ErrInvalid) {
				t.Errorf("%+v: %v", q, err)
			}
		}
	})
	t.Run("export", func(t *testing.T) {
		rows, truncated, err := cs.Export(ctx, "acme", tenants.Search{Manager: "cm-a", Limit: 1, Cursor: "ignored"})
		if err != nil || truncated || len(rows) != 5 {
			t.Fatalf("export: %d rows %v %v", len(rows), truncated, err)
		}
	})
}

func mustID(t *testing.T, cs *tenants.Customers, name string) string {
	t.Helper()
	l, _, err := cs.List(context.Background(), "acme", tenants.Query{AccountName: name})
	if err != nil || len(l) != 1 {
		t.Fatalf("%s: %v %v", name, l, err)
	}
	return l[0].DomainID
}

// TestCustomersCSV: RFC 4180 quoting and formula neutralization.
func TestCustomersCSV(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	rows := []tenants.Customer{
		{DomainID: "d1", DomainName: "plain_name", XAccountType: "plat", XAccountID: "=HYPERLINK(\"http://evil\",\"x\")",
			AssociationType: "1", AssociatedOn: at, Managers: []string{"+cm", "b"}, Label: "a,\"quoted\"\nlabel"},
		{DomainID: "d2", DomainName: "n2", XAccountID: "-2+3", Managers: nil, Label: "@SUM(A1)"},
		{DomainID: "d3", DomainName: "n3", XAccountID: "  =1+1", Label: "\tTAB"},
		{DomainID: "d4", DomainName: "n4", XAccountID: "\r=x", Label: "safe = value"},
	}
	var buf bytes.Buffer
	if err := tenants.WriteCustomersCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "\r\n") {
		t.Fatal("not CRLF")
	}
	// (encoding/csv's CRLF writer drops a lone CR; the cell was quoted first.)
	if !strings.Contains(buf.String(), "\"'=x\"") {
		t.Fatalf("CR-led cell not neutralized: %q", buf.String())
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		tenants.CustomerCSVHeader,
		{"d1", "plain_name", "plat", "'=HYPERLINK(\"http://evil\",\"x\")", "1", "2026-03-01T09:30:00Z", "'+cm;b", "a,\"quoted\"\nlabel"},
		{"d2", "n2", "", "'-2+3", "", "", "", "'@SUM(A1)"},
		{"d3", "n3", "", "'  =1+1", "", "", "", "'\tTAB"},
		{"d4", "n4", "", "'=x", "", "", "", "safe = value"},
	}
	if len(got) != len(want) {
		t.Fatalf("rows %q", got)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("row %d: %q, want %q", i, got[i], want[i])
		}
	}
}
