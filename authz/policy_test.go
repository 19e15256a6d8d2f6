package authz

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2/util"

	"github.com/livery/livery/configs"
)

func embeddedPolicy() []byte { return configs.AuthzPolicy }

// writePolicy writes data to dir/policy.csv and returns the path.
func writePolicy(t testing.TB, dir, data string) string {
	t.Helper()
	p := filepath.Join(dir, "policy.csv")
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadFile(t *testing.T, data string, o Options) (*Casbin, error) {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	return NewCasbin("", writePolicy(t, t.TempDir(), data), o)
}

const goodLine = "p, customer, *, /*, GET, allow"

func TestBadPolicyLines(t *testing.T) {
	for _, tc := range []struct {
		name, line, want string
	}{
		{"too few fields", "p, customer, *, /x, GET", "p rule needs 5 fields"},
		{"too many fields", "p, customer, *, /x, GET, allow, extra", "p rule needs 5 fields"},
		{"g too few fields", "g, delegated, customer", "g rule needs 3 fields"},
		{"unknown type", "q, customer, *, /x, GET, allow", `unknown rule type "q"`},
		{"empty field", "p, , *, /x, GET, allow", "field 2 is empty"},
		{"relative object", "p, customer, *, overview, GET, allow", `object "overview" must start with /`},
		{"bad effect", "p, customer, *, /x, GET, permit", `effect "permit" must be allow or deny`},
		{"trailing comment", "p, customer, *, /x, GET, allow # comment", "must be allow or deny"},
		{"bad method regexp", "p, customer, *, /x, GET|(POST, allow", `action "GET|(POST"`},
		{"bad keyMatch2 pattern", "p, customer, *, /x/[y, GET, allow", "not a valid keyMatch2 pattern"},
		{"bad keyMatch2 group", "p, customer, *, /x/(y/:id, GET, allow", "not a valid keyMatch2 pattern"},
		{"group before :tenant", "p, customer, *, /(a|b)/:tenant/x, GET, allow", "capturing groups are not allowed before :tenant"},
		{"bare quote", `p, "customer, *, /x, GET, allow`, "line 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := "# header\n\n" + goodLine + "\n" + tc.line + "\n" + goodLine + "\n"
			c, err := loadFile(t, data, Options{})
			if c != nil || !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("got %v, %v; want ErrInvalidPolicy", c, err)
			}
			if !strings.Contains(err.Error(), "line 4: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention line 4 and %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "line 3") || strings.Contains(err.Error(), "line 5") {
				t.Fatalf("error %q blames a good line", err)
			}
		})
	}
}

func TestEmptyPolicyRefused(t *testing.T) {
	for name, data := range map[string]string{
		"empty":         "",
		"blank lines":   "\n\n  \n",
		"comments only": "# nothing\n# here\n",
		"only g rules":  "g, delegated, customer, *\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadFile(t, data, Options{})
			if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), "no permission (p) rules") {
				t.Fatalf("got %v; want ErrInvalidPolicy: no permission (p) rules", err)
			}
		})
	}
}

func TestPolicyReportsAllProblems(t *testing.T) {
	data := strings.Join([]string{
		"# comment",                            // 1
		"p, customer, *, overview, GET, allow", // 2
		goodLine,                               // 3
		"x, y",                                 // 4
		"p, customer, *, /x/[, GET, allow",     // 5
		"g, a, b",                              // 6
	}, "\n")
	_, err := loadFile(t, data, Options{})
	if !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"line 2: ", "line 4: ", "line 5: ", "line 6: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not report %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "line 1:") || strings.Contains(err.Error(), "line 3:") {
		t.Errorf("error blames a good line: %v", err)
	}
	if !strings.Contains(err.Error(), "policy.csv") {
		t.Errorf("error does not name the file: %v", err)
	}
}

func TestPolicyFormatsAccepted(t *testing.T) {
	data := "\ufeff# byte order mark, CRLF, indentation and quoting\r\n" +
		"  p,customer,*,/*,GET,allow\r\n" +
		`p, "customer", "*", "/x", "GET|POST", deny` + "\r\n" +
		"\tg, delegated, customer, *\r\n"
	c, err := loadFile(t, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := Subject{Roles: []string{RoleDelegated}, Tenant: homeTenant}
	checkDecision(t, c, s, Request{Tenant: homeTenant, Object: "/overview", Action: "GET"}, true)
	checkDecision(t, c, s, Request{Tenant: homeTenant, Object: "/x", Action: "GET"}, false)
}

// A pattern that would make keyMatch2 panic is refused when loading; the
// engine never sees it (Casbin itself would only fail on a request).
func TestBadPatternRefusedAtLoad(t *testing.T) {
	for _, pat := range []string{"/x/[", "/x/(", "/a/*+", "/x/a{2,1}"} {
		t.Run(pat, func(t *testing.T) {
			_, err := loadFile(t, goodLine+"\np, customer, *, "+pat+", GET, allow\n", Options{})
			if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), "line 2") {
				t.Fatalf("got %v; want ErrInvalidPolicy at line 2", err)
			}
		})
	}
}

func TestNewCasbinErrors(t *testing.T) {
	_, err := NewCasbin("", filepath.Join(t.TempDir(), "missing.csv"), Options{Logger: quietLogger()})
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("missing file: got %v", err)
	}
	_, err = NewCasbin("[request_definition]\nr = sub\n", "", Options{Logger: quietLogger()})
	if !errors.Is(err, ErrInvalidModel) {
		t.Fatalf("bad model: got %v", err)
	}
}

func TestEmbeddedPolicyMatchesFile(t *testing.T) {
	onDisk, err := os.ReadFile("../configs/authz/policy.csv")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCasbin("", "../configs/authz/policy.csv", Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if string(onDisk) != string(embeddedPolicy()) || c.Source() != "../configs/authz/policy.csv" {
		t.Fatalf("source %q; embedded copy differs from file: %v", c.Source(), string(onDisk) != string(embeddedPolicy()))
	}
	if got := embedded(t).Source(); got != "embedded policy" {
		t.Fatalf("embedded Source() = %q", got)
	}
}

// The matcher's keyMatch2 and regexMatch are served from patternCache; they
// must decide exactly like Casbin's own functions.
func TestPatternCacheMatchesCasbin(t *testing.T) {
	rules, err := parsePolicy("embedded", embeddedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	extra := rule{ptype: "p", vals: []string{"x", "*", "/a/:id/b/*", "GET|(PO)ST", "allow"}}
	rules = append(rules, extra)
	pc, err := newPatternCache(rules)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/", "/overview", "/admin", "/admin/", "/admin/x", "/administrator", "/marketplace",
		"/marketplace/", "/marketplace/orders", "/marketplace/orders/1", "/a/1/b/", "/a/1/b/c/d", "/a//b/c",
		"/admin/v1/reviews", "/admin/v1/reviews/acme/approve", "/admin/v1/tenants/acme/customers",
		"/admin/v1/tenants/acme/customers/c1/managers", "/admin/v1/tenants/acme/branding/draft"}
	methods := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "", "GETX", "POSTGET"}
	matches := 0
	for _, r := range rules {
		if r.ptype != "p" {
			continue
		}
		for _, p := range paths {
			got, err := pc.keyMatch2(p, r.vals[2])
			if want := util.KeyMatch2(p, r.vals[2]); err != nil || got != want {
				t.Errorf("keyMatch2(%q, %q) = %v, %v; Casbin says %v", p, r.vals[2], got, err, want)
			}
			if got == true {
				matches++
			}
		}
		pat := "^(" + r.vals[3] + ")$"
		for _, m := range methods {
			got, err := pc.regexMatch(m, pat)
			if want := util.RegexMatch(m, pat); err != nil || got != want {
				t.Errorf("regexMatch(%q, %q) = %v, %v; Casbin says %v", m, pat, got, err, want)
			}
		}
	}
	if matches == 0 {
		t.Fatal("no path matched any pattern: the comparison proves nothing")
	}
	// Patterns that are not in the policy still work (Casbin fallback).
	if got, _ := pc.keyMatch2("/q/1", "/q/:n"); got != true {
		t.Error("fallback keyMatch2 failed")
	}
	if got, _ := pc.regexMatch("GET", "^G"); got != true {
		t.Error("fallback regexMatch failed")
	}
	if _, err := pc.keyMatch2("/x"); err == nil {
		t.Error("keyMatch2 with one argument did not fail")
	}
}
