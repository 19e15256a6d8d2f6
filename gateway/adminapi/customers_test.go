package adminapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// adminCustomerIDs returns the customer ids of a list answer and its count.
func adminCustomerIDs(t testing.TB, r gatewaytest.Response) ([]string, int) {
	t.Helper()
	m := r.JSON(t)
	raw, ok := m["customers"].([]any)
	if !ok {
		t.Fatalf("no customers array: %s", r.Body)
	}
	var ids []string
	for _, c := range raw {
		id, _ := c.(map[string]any)["customer_id"].(string)
		ids = append(ids, id)
	}
	sort.Strings(ids)
	count, ok := m["count"].(float64)
	if !ok {
		t.Fatalf("no count: %s", r.Body)
	}
	return ids, int(count)
}

func stringList(v any) []string {
	out := []string{}
	raw, _ := v.([]any)
	for _, x := range raw {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// managersOf reads the managers straight from the registry.
func managersOf(e *gatewaytest.StaffEnv, t testing.TB, tenant, label string) []string {
	t.Helper()
	c, err := e.Customers.ByDomainID(t.Context(), tenant, e.Cust[label].DomainID)
	if err != nil || c == nil {
		t.Fatalf("customer %s/%s: %v", tenant, label, err)
	}
	if c.Managers == nil {
		return []string{}
	}
	return c.Managers
}

func managersJSON(m []string) string {
	q := make([]string, len(m))
	for i, s := range m {
		q[i] = fmt.Sprintf("%q", s)
	}
	return `{"managers":[` + strings.Join(q, ",") + `]}`
}

// TestAdminCustomersMatrix drives the admin customer API through the real
// Casbin authorizer and the embedded policy: every role × endpoint ×
// tenant, authenticated both by bearer token and by browser session.
func TestAdminCustomersMatrix(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	// The endpoints, for a tenant whose assigned customer is "X" and
	// unassigned one "Y"; "foreign" is a customer of the other tenant.
	type endpoint struct {
		name, method, customer, suffix string // customer: "X", "Y", "foreign", or "" for the list
	}
	endpoints := []endpoint{
		{"list", "GET", "", ""},
		{"get X", "GET", "X", ""},
		{"get Y", "GET", "Y", ""},
		{"managers X", "GET", "X", "/managers"},
		{"managers Y", "GET", "Y", "/managers"},
		{"put managers X", "PUT", "X", "/managers"},
		{"put managers Y", "PUT", "Y", "/managers"},
		{"get foreign", "GET", "foreign", ""},
	}
	labels := map[string]map[string]string{ // tenant → endpoint label → customer label
		"acme":   {"X": "X", "Y": "Y", "foreign": "G"},
		"globex": {"X": "G", "Y": "H", "foreign": "X"},
	}
	all := map[string][]string{"acme": {"X", "Y", "Z"}, "globex": {"G", "H"}}
	const (
		ok     = http.StatusOK
		no     = http.StatusForbidden
		nf     = http.StatusNotFound
		unauth = http.StatusUnauthorized
	)
	for _, tc := range []struct {
		tenant, subject string
		want            [8]int // in the order of endpoints
		wantList        []string
	}{
		{"acme", "op-1", [8]int{ok, ok, ok, ok, ok, ok, ok, nf}, all["acme"]},
		{"acme", "pa-acme", [8]int{ok, ok, ok, ok, ok, ok, ok, nf}, all["acme"]},
		{"acme", "cm-acme", [8]int{ok, ok, nf, ok, nf, no, no, nf}, []string{"X"}},
		{"acme", "cm-globex", [8]int{no, no, no, no, no, no, no, no}, nil},
		{"acme", "nobody", [8]int{no, no, no, no, no, no, no, no}, nil},
		{"acme", "", [8]int{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}, nil},
		{"globex", "op-1", [8]int{ok, ok, ok, ok, ok, ok, ok, nf}, all["globex"]},
		{"globex", "pa-acme", [8]int{no, no, no, no, no, no, no, no}, nil},
		{"globex", "cm-acme", [8]int{no, no, no, no, no, no, no, no}, nil},
		{"globex", "cm-globex", [8]int{ok, ok, nf, ok, nf, no, no, nf}, []string{"G"}},
		{"globex", "nobody", [8]int{no, no, no, no, no, no, no, no}, nil},
		{"globex", "", [8]int{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}, nil},
	} {
		for _, mode := range []string{"bearer", "session"} {
			if mode == "session" && (tc.subject == "" || tc.subject == "nobody") {
				continue // no session can exist for them
			}
			who := tc.subject
			if who == "" {
				who = "anonymous"
			}
			t.Run(tc.tenant+"/"+who+"/"+mode, func(t *testing.T) {
				var auth []string
				switch {
				case tc.subject == "":
				case mode == "bearer":
					auth = []string{"Authorization", "Bearer " + e.Token(t, tc.subject)}
				default:
					c := gatewaytest.StaffBrowser()
					if r := e.StaffSignIn(t, c, tc.subject); r.Status != 200 {
						t.Fatalf("sign-in %d %s", r.Status, r.Body)
					}
					auth = []string{"Cookie", "livery_staff=" + gatewaytest.CookieValue(c, e.APIURL, "livery_staff")}
				}
				for i, ep := range endpoints {
					path := "/admin/v1/tenants/" + tc.tenant + "/customers"
					var label string
					if ep.customer != "" {
						label = labels[tc.tenant][ep.customer]
						path += "/" + e.Cust[label].DomainID + ep.suffix
					}
					custTenant := tc.tenant
					if ep.customer == "foreign" {
						custTenant = map[string]string{"acme": "globex", "globex": "acme"}[tc.tenant]
					}
					var body string
					headers := append([]string{"Accept", "application/json"}, auth...)
					if ep.method == "PUT" {
						body = managersJSON(managersOf(e, t, custTenant, label))
						headers = append(headers, "Content-Type", "application/json")
					}
					r := e.API(t, ep.method, path, "", body, headers...)
					if r.Status != tc.want[i] {
						t.Errorf("%s %s: %d %s, want %d", ep.name, path, r.Status, r.Body, tc.want[i])
						continue
					}
					switch {
					case r.Status == nf:
						if r.ErrorCode(t) != "not_found" {
							t.Errorf("%s: %s", ep.name, r.Body)
						}
						if strings.Contains(r.Body, e.Cust[label].DomainName) {
							t.Errorf("%s: 404 reveals the customer: %s", ep.name, r.Body)
						}
					case r.Status != ok:
						code := r.ErrorCode(t)
						want := map[int]string{no: "forbidden", unauth: "unauthenticated"}[r.Status]
						if tc.subject == "nobody" {
							want = "no_role"
						}
						if code != want {
							t.Errorf("%s: error_code %q, want %q", ep.name, code, want)
						}
						if strings.Contains(r.Body, "rule") || strings.Contains(r.Body, "policy") || strings.Contains(r.Body, "acme_") {
							t.Errorf("%s: error reveals the decision or data: %s", ep.name, r.Body)
						}
					case ep.name == "list":
						ids, count := adminCustomerIDs(t, r)
						var want []string
						for _, l := range tc.wantList {
							want = append(want, e.Cust[l].DomainID)
						}
						sort.Strings(want)
						if !slices.Equal(ids, want) || count != len(want) {
							t.Errorf("list: ids %v count %d, want %v (labels %v) count %d", ids, count, want, tc.wantList, len(want))
						}
					case ep.suffix == "/managers":
						if got, want := stringList(r.JSON(t)["managers"]), managersOf(e, t, custTenant, label); !slices.Equal(got, want) {
							t.Errorf("%s: managers %v, want %v", ep.name, got, want)
						}
					default:
						m := r.JSON(t)
						if m["customer_id"] != e.Cust[label].DomainID || m["account_name"] != e.Cust[label].DomainName {
							t.Errorf("%s: %s", ep.name, r.Body)
						}
					}
				}
			})
		}
	}
	// The PUTs wrote the same managers back: nothing moved.
	for tenant, want := range map[string]map[string][]string{
		"acme": {"X": {"cm-acme"}, "Y": {"someone-else"}, "Z": {}}, "globex": {"G": {"cm-globex"}, "H": {}},
	} {
		for label, m := range want {
			if got := managersOf(e, t, tenant, label); !slices.Equal(got, m) {
				t.Errorf("%s/%s managers %v, want %v", tenant, label, got, m)
			}
		}
	}
}

// TestAdminManagerScoping: a customer manager's list, totals and
// pagination cover only the customers assigned to them; assignment
// changes take effect; the display name never stands in for the user id.
func TestAdminManagerScoping(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	cm, pa, imp := e.Token(t, "cm-acme"), e.Token(t, "pa-acme"), e.Token(t, "impostor")
	id := func(labels ...string) []string {
		var out []string
		for _, l := range labels {
			out = append(out, e.Cust[l].DomainID)
		}
		sort.Strings(out)
		return out
	}
	list := "/admin/v1/tenants/acme/customers"
	for _, tc := range []struct {
		name, token, query string
		wantIDs            []string // nil with wantLen > 0: any wantLen customers
		wantCount          int
		wantLen            int
	}{
		{"manager, first page", cm, "?limit=1", id("X"), 1, 0},
		{"manager, past the end", cm, "?limit=1&offset=1", nil, 1, 0},
		{"manager, far past the end", cm, "?offset=100", nil, 1, 0},
		{"manager, filter matching an unassigned customer", cm, "?account_name=acme_y", nil, 0, 0},
		{"manager, filter matching every customer", cm, "?account_name=acme_", id("X"), 1, 0},
		{"admin, paged", pa, "?limit=2&offset=2", nil, 3, 1},
		{"admin, first page", pa, "?limit=2", nil, 3, 2},
		{"admin, filter", pa, "?account_name=acme_y", id("Y"), 1, 0},
		{"manager whose display name is another manager's id", imp, "", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.API(t, "GET", list+tc.query, tc.token, "")
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			ids, count := adminCustomerIDs(t, r)
			if tc.wantLen > 0 {
				if len(ids) != tc.wantLen || count != tc.wantCount {
					t.Fatalf("ids %v count %d, want %d ids count %d", ids, count, tc.wantLen, tc.wantCount)
				}
				return
			}
			if !slices.Equal(ids, tc.wantIDs) || count != tc.wantCount {
				t.Fatalf("ids %v count %d, want %v count %d", ids, count, tc.wantIDs, tc.wantCount)
			}
		})
	}
	t.Run("impostor cannot read the customer either", func(t *testing.T) {
		for _, suffix := range []string{"", "/managers"} {
			if r := e.API(t, "GET", list+"/"+e.Cust["X"].DomainID+suffix, imp, ""); r.Status != 404 {
				t.Fatalf("GET X%s as impostor: %d %s", suffix, r.Status, r.Body)
			}
		}
	})
	t.Run("bad pagination", func(t *testing.T) {
		for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?offset=-1", "?offset=1e3"} {
			r := e.API(t, "GET", list+q, cm, "")
			if r.Status != 400 || r.ErrorCode(t) != "invalid_request" {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})
	t.Run("assignment changes take effect", func(t *testing.T) {
		yPath := list + "/" + e.Cust["Y"].DomainID
		put := func(body string) gatewaytest.Response {
			return e.API(t, "PUT", yPath+"/managers", pa, body, "Content-Type", "application/json")
		}
		if r := put(`{"managers":["someone-else","cm-acme","cm-acme"]}`); r.Status != 200 ||
			!slices.Equal(stringList(r.JSON(t)["managers"]), []string{"someone-else", "cm-acme"}) {
			t.Fatalf("assign: %d %s", r.Status, r.Body)
		}
		if ids, count := adminCustomerIDs(t, e.API(t, "GET", list, cm, "")); !slices.Equal(ids, id("X", "Y")) || count != 2 {
			t.Fatalf("after assignment: %v %d", ids, count)
		}
		if r := e.API(t, "GET", yPath, cm, ""); r.Status != 200 {
			t.Fatalf("GET Y after assignment: %d", r.Status)
		}
		// The manager still cannot change assignments.
		if r := e.API(t, "PUT", yPath+"/managers", cm, `{"managers":[]}`, "Content-Type", "application/json"); r.Status != 403 {
			t.Fatalf("manager PUT: %d %s", r.Status, r.Body)
		}
		if r := put(`{"managers":[]}`); r.Status != 200 || len(stringList(r.JSON(t)["managers"])) != 0 {
			t.Fatalf("unassign: %d %s", r.Status, r.Body)
		}
		if r := e.API(t, "GET", yPath, cm, ""); r.Status != 404 {
			t.Fatalf("GET Y after unassignment: %d", r.Status)
		}
		if ids, count := adminCustomerIDs(t, e.API(t, "GET", list, cm, "")); !slices.Equal(ids, id("X")) || count != 1 {
			t.Fatalf("after unassignment: %v %d", ids, count)
		}
	})
}

// TestAdminPutManagersBadInput: every malformed assignment is refused with
// a clear error, and nothing changes (re-read from the registry).
func TestAdminPutManagersBadInput(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	pa := e.Token(t, "pa-acme")
	x := "/admin/v1/tenants/acme/customers/" + e.Cust["X"].DomainID + "/managers"
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("mgr-%02d", i)
	}
	const jsonCT = "application/json"
	for _, tc := range []struct {
		name, path, contentType, body string
		wantStatus                    int
		wantCode, wantMsg             string
	}{
		{"not JSON", x, jsonCT, "managers=cm-acme", 400, "bad_json", "not a valid JSON object"},
		{"empty body", x, jsonCT, "", 400, "bad_json", "empty"},
		{"JSON array, not an object", x, jsonCT, `["cm-acme"]`, 400, "bad_json", "body"},
		{"managers missing", x, jsonCT, `{}`, 400, "invalid_request", "managers is required"},
		{"managers null", x, jsonCT, `{"managers":null}`, 400, "invalid_request", "managers is required"},
		{"managers a string", x, jsonCT, `{"managers":"cm-acme"}`, 400, "bad_json", "managers"},
		{"managers of numbers", x, jsonCT, `{"managers":[1,2]}`, 400, "bad_json", "managers"},
		{"empty id", x, jsonCT, `{"managers":[""]}`, 400, "invalid_request", "managers"},
		{"empty id among good ones", x, jsonCT, `{"managers":["cm-acme",""]}`, 400, "invalid_request", "managers"},
		{"id too long", x, jsonCT, managersJSON([]string{strings.Repeat("m", 65)}), 400, "invalid_request", "at most 64"},
		{"control character", x, jsonCT, `{"managers":["cm\u0007acme"]}`, 400, "invalid_request", "control"},
		{"too many", x, jsonCT, managersJSON(many), 400, "invalid_request", "at most 20"},
		{"unknown field", x, jsonCT, `{"managers":[],"owner":"me"}`, 400, "bad_json", "owner"},
		{"trailing data", x, jsonCT, `{"managers":[]} {"managers":["x"]}`, 400, "bad_json", "after the JSON object"},
		{"text/plain", x, "text/plain", `{"managers":[]}`, 415, "unsupported_media_type", "application/json"},
		{"form content type", x, "application/x-www-form-urlencoded", `{"managers":[]}`, 415, "unsupported_media_type", "application/json"},
		{"no content type", x, "", `{"managers":[]}`, 415, "unsupported_media_type", "application/json"},
		{"json lookalike content type", x, "application/jsonp", `{"managers":[]}`, 415, "unsupported_media_type", "application/json"},
		{"unknown customer", "/admin/v1/tenants/acme/customers/no-such-customer/managers", jsonCT, `{"managers":[]}`, 404, "not_found", "No such customer"},
		{"unknown customer, bad body", "/admin/v1/tenants/acme/customers/no-such-customer/managers", jsonCT, `nope`, 404, "not_found", "No such customer"},
		{"customer of another tenant", "/admin/v1/tenants/acme/customers/" + e.Cust["G"].DomainID + "/managers", jsonCT, `{"managers":[]}`, 404, "not_found", "No such customer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := []string{}
			if tc.contentType != "" {
				headers = append(headers, "Content-Type", tc.contentType)
			}
			r := e.API(t, "PUT", tc.path, pa, tc.body, headers...)
			if r.Status != tc.wantStatus {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.wantStatus)
			}
			if code := r.ErrorCode(t); code != tc.wantCode {
				t.Fatalf("error_code %q, want %q", code, tc.wantCode)
			}
			if msg, _ := r.JSON(t)["error_msg"].(string); !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("error_msg %q does not say %q", msg, tc.wantMsg)
			}
			if got := managersOf(e, t, "acme", "X"); !slices.Equal(got, []string{"cm-acme"}) {
				t.Fatalf("managers changed to %v", got)
			}
			if got := managersOf(e, t, "globex", "G"); !slices.Equal(got, []string{"cm-globex"}) {
				t.Fatalf("globex G managers changed to %v", got)
			}
			// And through the API, as the manager sees it.
			if r := e.API(t, "GET", x, e.Token(t, "cm-acme"), ""); r.Status != 200 ||
				!slices.Equal(stringList(r.JSON(t)["managers"]), []string{"cm-acme"}) {
				t.Fatalf("re-read: %d %s", r.Status, r.Body)
			}
		})
	}
	// The good request with a charset parameter goes through (raw-pa is
	// staff of acme once it has called the admin API).
	if r := e.API(t, "GET", "/admin/whoami", e.Token(t, "raw-pa"), ""); r.Status != 200 {
		t.Fatalf("whoami: %d %s", r.Status, r.Body)
	}
	r := e.API(t, "PUT", x, pa, `{"managers":["cm-acme","raw-pa"]}`, "Content-Type", "application/json; charset=utf-8")
	if r.Status != 200 || !slices.Equal(managersOf(e, t, "acme", "X"), []string{"cm-acme", "raw-pa"}) {
		t.Fatalf("valid PUT: %d %s", r.Status, r.Body)
	}
}
