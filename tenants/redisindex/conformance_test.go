package redisindex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/livery/livery/tenants"
)

// reference answers sel by its definition (tenants.Selection.Matches and
// tenants.ListBefore) over all: the names of the window and the count.
func reference(all map[string]tenants.Customer, sel tenants.Selection) ([]string, int) {
	var hits []tenants.Customer
	for _, c := range all {
		if sel.Matches(&c) {
			hits = append(hits, c)
		}
	}
	slices.SortFunc(hits, func(a, b tenants.Customer) int {
		if tenants.ListBefore(tenants.PositionOf(&a), tenants.PositionOf(&b)) {
			return -1
		}
		return 1
	})
	total := len(hits)
	if sel.After != nil {
		i := 0
		for i < len(hits) && !tenants.ListBefore(*sel.After, tenants.PositionOf(&hits[i])) {
			i++
		}
		hits = hits[i:]
	}
	hits = hits[min(sel.Offset, len(hits)):]
	if sel.Limit > 0 && len(hits) > sel.Limit {
		hits = hits[:sel.Limit]
	}
	var names []string
	for _, c := range hits {
		names = append(names, c.DomainName)
	}
	return names, total
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// dataset is a tenant of n customers with mixed-case, CJK and other
// Unicode names, association times that often tie, and every term kind.
func dataset(n int) []tenants.Customer {
	r := rand.New(rand.NewPCG(1, 2))
	stems := []string{"Acme", "acme_Corp", "ACMEx", "globex", "Initech", "海底捞", "海尔集团", "Ärger", "STRASSE", "straße",
		"Ωmega", "ωmega", "mix中文Abc", "zz"}
	cs := make([]tenants.Customer, n)
	for i := range cs {
		c := tenants.Customer{Tenant: "ta", XAccountType: "plat", XAccountID: fmt.Sprintf("x%04d", i),
			State: tenants.StateActive, DomainID: fmt.Sprintf("dom-%04d", i),
			DomainName:      fmt.Sprintf("%s_%03d", stems[i%len(stems)], i),
			AssociationType: []string{"1", "2"}[r.IntN(2)],
			AssociatedOn:    t0.Add(time.Duration(r.IntN(n/3+1)) * time.Minute)}
		if r.IntN(3) == 0 {
			c.Label = []string{"vip", "gold", "标签"}[r.IntN(3)]
		}
		if r.IntN(4) == 0 {
			c.IndirectPartnerID = []string{"ip-1", "ip-2"}[r.IntN(2)]
		}
		for _, m := range []string{"cm-a", "cm-b", "cm-c"} {
			if r.IntN(4) == 0 {
				c.Managers = append(c.Managers, m)
			}
		}
		cs[i] = c
	}
	return cs
}

// selections is the conformance table: every filter alone, their
// combinations, window edges, paging, keyset cursors, substrings.
func selections(cs []tenants.Customer) map[string]tenants.Selection {
	term := func(k tenants.TermKind, v string) []tenants.Term { return []tenants.Term{{Kind: k, Value: v}} }
	mid := cs[len(cs)/2]
	pos := tenants.PositionOf(&mid)
	at := mid.AssociatedOn
	return map[string]tenants.Selection{
		"all":                    {},
		"all limit 10":           {Limit: 10},
		"all offset 7 limit 10":  {Offset: 7, Limit: 10},
		"offset past the end":    {Offset: len(cs) + 5, Limit: 10},
		"customer id":            {CustomerID: mid.DomainID},
		"customer id offset":     {CustomerID: mid.DomainID, Offset: 1},
		"customer id wrong type": {CustomerID: mid.DomainID, Groups: [][]tenants.Term{term(tenants.TermAssociationType, map[string]string{"1": "2", "2": "1"}[mid.AssociationType])}},
		"customer id unknown":    {CustomerID: "dom-nope"},
		"association type":       {Groups: [][]tenants.Term{term(tenants.TermAssociationType, "1")}, Limit: 10},
		"label":                  {Groups: [][]tenants.Term{term(tenants.TermLabel, "vip")}, Limit: 10, Offset: 3},
		"label CJK":              {Groups: [][]tenants.Term{term(tenants.TermLabel, "标签")}},
		"label unknown":          {Groups: [][]tenants.Term{term(tenants.TermLabel, "nope")}, Limit: 10},
		"indirect partner":       {Groups: [][]tenants.Term{term(tenants.TermIndirectPartnerID, "ip-2")}, Limit: 10},
		"one manager":            {Groups: [][]tenants.Term{term(tenants.TermManager, "cm-a")}, Limit: 10},
		"any of managers":        {Groups: [][]tenants.Term{{{Kind: tenants.TermManager, Value: "cm-a"}, {Kind: tenants.TermManager, Value: "cm-b"}}}, Limit: 10},
		"manager and scope": {Groups: [][]tenants.Term{term(tenants.TermManager, "cm-c"),
			{{Kind: tenants.TermManager, Value: "cm-a"}, {Kind: tenants.TermManager, Value: "cm-b"}}}, Limit: 10},
		"type label partner": {Groups: [][]tenants.Term{term(tenants.TermAssociationType, "2"), term(tenants.TermLabel, "gold"),
			term(tenants.TermIndirectPartnerID, "ip-1")}},
		"empty group":              {Groups: [][]tenants.Term{{}}},
		"window":                   {Begin: t0.Add(10 * time.Minute), End: t0.Add(40 * time.Minute), Limit: 10},
		"window edges inclusive":   {Begin: at, End: at},
		"window from":              {Begin: at, Limit: 10, Offset: 2},
		"window until":             {End: at, Limit: 10},
		"window sub-second":        {Begin: at.Add(-time.Nanosecond), End: at.Add(time.Nanosecond)},
		"window empty":             {Begin: at.Add(time.Second), End: at.Add(59 * time.Second)},
		"window and type":          {Begin: t0.Add(5 * time.Minute), End: t0.Add(60 * time.Minute), Groups: [][]tenants.Term{term(tenants.TermAssociationType, "2")}, Limit: 5},
		"after cursor":             {After: &pos, Limit: 10},
		"after missing position":   {After: &tenants.Position{AssociatedOn: at, DomainName: mid.DomainName + "0"}, Limit: 10},
		"after cursor with filter": {After: &pos, Groups: [][]tenants.Term{term(tenants.TermAssociationType, "1")}, Limit: 10},
		"substring mixed case":     {Contains: []string{"aCmE"}, Limit: 10},
		"substring 1 rune":         {Contains: []string{"x"}, Limit: 10, Offset: 4},
		"substring 2 runes":        {Contains: []string{"_0"}, Limit: 10},
		"substring long":           {Contains: []string{"ACME_cORP_0"}},
		"substring CJK 1":          {Contains: []string{"海"}, Limit: 10},
		"substring CJK 2":          {Contains: []string{"集团"}},
		"substring CJK mixed":      {Contains: []string{"中文abc_"}},
		"substring unicode case":   {Contains: []string{"äRGER"}},
		"substring sharp s":        {Contains: []string{"STRAßE"}},
		"substring greek":          {Contains: []string{"ΩMEGA_0"}, Limit: 3},
		"substring absent":         {Contains: []string{"nothing here"}},
		"substring absent gram":    {Contains: []string{"q"}},
		"substring of a name":      {Contains: []string{mid.DomainName[2:]}},
		"two substrings":           {Contains: []string{"acme", "_1"}, Limit: 10},
		"substring and type":       {Contains: []string{"acme"}, Groups: [][]tenants.Term{term(tenants.TermAssociationType, "2")}, Limit: 5, Offset: 2},
		"substring and window":     {Contains: []string{"e"}, Begin: t0.Add(5 * time.Minute), End: t0.Add(50 * time.Minute), Limit: 10},
		"substring after cursor":   {Contains: []string{"a"}, After: &pos, Limit: 10},
		"substring and managers":   {Contains: []string{"e"}, Groups: [][]tenants.Term{{{Kind: tenants.TermManager, Value: "cm-a"}, {Kind: tenants.TermManager, Value: "cm-c"}}}},
		"substring and id":         {Contains: []string{mid.DomainName[:3]}, CustomerID: mid.DomainID},
		"everything":               {Contains: []string{"e"}, Begin: t0, End: t0.Add(time.Hour), Groups: [][]tenants.Term{term(tenants.TermAssociationType, "1"), term(tenants.TermManager, "cm-b")}, Offset: 1, Limit: 3},
	}
}

func check(t *testing.T, ctx context.Context, x Index, all map[string]tenants.Customer, sels map[string]tenants.Selection) {
	t.Helper()
	for name, sel := range sels {
		want, wantTotal := reference(all, sel)
		got, total, ok, err := x.Select(ctx, "ta", sel)
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", name, ok, err)
		}
		var names []string
		for _, c := range got {
			names = append(names, c.DomainName)
			if !slices.Equal(c.Managers, all[c.DomainName].Managers) || c.Label != all[c.DomainName].Label {
				t.Errorf("%s: %s stored as %+v, want %+v", name, c.DomainName, c, all[c.DomainName])
			}
		}
		if total != wantTotal || !slices.Equal(names, want) {
			t.Errorf("%s: got %d %v\nwant %d %v", name, total, names, wantTotal, want)
		}
	}
}

// TestSelectConformance: Select answers every selection of the table as
// its definition does — on both servers, with posting lists bounded low
// (the dense paths) and at the default (the sparse ones) — and still
// after writes change labels, managers, association types and ids.
func TestSelectConformance(t *testing.T) {
	for server, o := range servers() {
		for _, dense := range []int{4, 0} {
			t.Run(fmt.Sprintf("%s/denseAt=%d", server, dense), func(t *testing.T) {
				ctx := context.Background()
				rdb := open(t, o(t))
				x := Index{RDB: rdb, DenseAt: dense}
				cs := dataset(300)
				all := map[string]tenants.Customer{}
				for _, c := range cs {
					all[c.DomainName] = c
				}
				if err := x.Fill(ctx, "ta", cs[:150], "k", 150, false); err != nil {
					t.Fatal(err)
				}
				for i := 150; i < len(cs); i++ {
					if err := x.Put(ctx, &cs[i]); err != nil {
						t.Fatal(err)
					}
				}
				if err := x.Fill(ctx, "ta", cs[140:160], "", 0, true); err != nil { // overlapping: idempotent
					t.Fatal(err)
				}
				sels := selections(cs)
				check(t, ctx, x, all, sels)

				// Writes: every change is visible to every filter at once.
				r := rand.New(rand.NewPCG(3, 4))
				for i := 0; i < 60; i++ {
					c := cs[r.IntN(len(cs))]
					switch i % 4 {
					case 0:
						c.Label = []string{"", "vip", "gold"}[r.IntN(3)]
					case 1:
						c.Managers = []string{"cm-a", "cm-b", "cm-c"}[:r.IntN(4)]
					case 2:
						c.AssociationType = map[string]string{"1": "2", "2": "1"}[c.AssociationType]
						c.AssociatedOn = c.AssociatedOn.Add(time.Duration(r.IntN(20)-10) * time.Minute)
					case 3:
						c.DomainID = c.DomainID + "-new"
					}
					if err := x.Put(ctx, &c); err != nil {
						t.Fatal(err)
					}
					all[c.DomainName] = c
				}
				check(t, ctx, x, all, sels)
				for _, c := range all {
					if c.DomainID[len(c.DomainID)-1] == 'w' {
						check(t, ctx, x, all, map[string]tenants.Selection{
							"new id":                     {CustomerID: c.DomainID},
							"old id":                     {CustomerID: c.DomainID[:len(c.DomainID)-4]},
							"name of a changed customer": {Contains: []string{c.DomainName}},
						})
						break
					}
				}

				// Removals: a removed customer is found by no filter, no
				// id and no substring; removed twice is no error; indexed
				// again it is found again.
				var removed []tenants.Customer
				for i := 0; i < len(cs); i += 7 {
					c := all[cs[i].DomainName]
					if err := x.Remove(ctx, "ta", c.DomainName); err != nil {
						t.Fatal(err)
					}
					if err := x.Remove(ctx, "ta", c.DomainName); err != nil {
						t.Fatalf("second removal: %v", err)
					}
					delete(all, c.DomainName)
					removed = append(removed, c)
				}
				check(t, ctx, x, all, sels)
				for _, c := range removed[:5] {
					check(t, ctx, x, all, map[string]tenants.Selection{
						"removed id":   {CustomerID: c.DomainID},
						"removed name": {Contains: []string{c.DomainName}},
					})
				}
				back := removed[0]
				if err := x.Put(ctx, &back); err != nil {
					t.Fatal(err)
				}
				all[back.DomainName] = back
				check(t, ctx, x, all, map[string]tenants.Selection{"indexed again": {Contains: []string{back.DomainName}},
					"indexed again by id": {CustomerID: back.DomainID}})
				check(t, ctx, x, all, sels)
			})
		}
	}
}
