package authz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/casbin/casbin/v2/util"
)

// rule is one parsed policy line.
type rule struct {
	ptype string   // "p" or "g"
	vals  []string // fields after ptype
}

// snapshot is one immutable loaded policy. Authorize reads the current
// snapshot through an atomic pointer; reloads build a new one and swap.
type snapshot struct {
	enf      *casbin.Enforcer
	roles    map[string]bool // names used as roles in the policy
	rules    int
	sum      [sha256.Size]byte
	source   string
	loadedAt time.Time
	// tenantPaths match paths that name a tenant: one per distinct prefix,
	// up to and including the :tenant segment, of the rules' patterns.
	tenantPaths []*regexp.Regexp
}

// pathTenant returns the tenant named by path, if path starts like a policy
// pattern with a :tenant segment.
func (s *snapshot) pathTenant(path string) (string, bool) {
	for _, re := range s.tenantPaths {
		if m := re.FindStringSubmatch(path); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// parsePolicy parses and validates a policy file strictly. Casbin's own
// loaders skip malformed lines silently; a broken file here is an error that
// lists every problem (joined, with line numbers), wrapped in ErrInvalidPolicy.
func parsePolicy(source string, data []byte) ([]rule, error) {
	var rules []rule
	var problems []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n, pRules := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff") // UTF-8 byte order mark
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := csv.NewReader(strings.NewReader(line))
		r.TrimLeadingSpace = true
		fields, err := r.Read()
		if err != nil {
			problems = append(problems, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if err := checkRule(fields); err != nil {
			problems = append(problems, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		if fields[0] == "p" {
			pRules++
		}
		rules = append(rules, rule{ptype: fields[0], vals: fields[1:]})
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, err)
	}
	if len(problems) == 0 && pRules == 0 {
		// An empty or truncated file would deny everything: treat as broken.
		problems = append(problems, errors.New("no permission (p) rules"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidPolicy, source, errors.Join(problems...))
	}
	return rules, nil
}

// checkRule validates one tokenised line (fields[0] is the ptype).
func checkRule(f []string) error {
	for i, v := range f {
		if v == "" {
			return fmt.Errorf("field %d is empty", i+1)
		}
	}
	switch f[0] {
	case "p":
		if len(f) != 6 {
			return fmt.Errorf("p rule needs 5 fields (sub, dom, obj, act, eft), got %d", len(f)-1)
		}
		if !strings.HasPrefix(f[3], "/") {
			return fmt.Errorf("object %q must start with /", f[3])
		}
		if err := checkPathPattern(f[3]); err != nil {
			return fmt.Errorf("object %q: %w", f[3], err)
		}
		if _, err := tenantPathRegexp(f[3]); err != nil {
			return fmt.Errorf("object %q: prefix up to :tenant: %w", f[3], err)
		}
		if _, err := regexp.Compile("^(" + f[4] + ")$"); err != nil {
			return fmt.Errorf("action %q: %w", f[4], err)
		}
		if f[5] != "allow" && f[5] != "deny" {
			return fmt.Errorf("effect %q must be allow or deny", f[5])
		}
	case "g":
		if len(f) != 4 {
			return fmt.Errorf("g rule needs 3 fields (child, parent, domain), got %d", len(f)-1)
		}
	default:
		return fmt.Errorf("unknown rule type %q (want p or g)", f[0])
	}
	return nil
}

// checkPathPattern rejects patterns that would make keyMatch2 or keyGet2
// panic at request time (both compile the pattern as a regular expression).
func checkPathPattern(p string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("not a valid keyMatch2 pattern: %v", r)
		}
	}()
	util.KeyMatch2("/", p)
	util.KeyGet2("/", p, "tenant")
	return nil
}

// pathVarRe is keyMatch2's path variable syntax (":name" up to the next /).
var pathVarRe = regexp.MustCompile(`:[^/]+`)

// tenantPathRegexp returns, for a keyMatch2 pattern with a :tenant variable,
// a regexp matching every path that starts with the pattern's prefix up to
// and including that variable (e.g. /admin/v1/tenants/:tenant matches
// /admin/v1/tenants/acme and everything below it), with the tenant as
// submatch 1; nil for a pattern without :tenant.
func tenantPathRegexp(pattern string) (*regexp.Regexp, error) {
	end := -1
	for _, loc := range pathVarRe.FindAllStringIndex(pattern, -1) {
		if pattern[loc[0]:loc[1]] == ":tenant" {
			end = loc[1]
			break
		}
	}
	if end < 0 {
		return nil, nil
	}
	prefix := strings.ReplaceAll(pattern[:end], "/*", "/.*")
	prefix = pathVarRe.ReplaceAllStringFunc(prefix, func(v string) string {
		if v == ":tenant" {
			return "([^/]+)"
		}
		return "[^/]+"
	})
	re, err := regexp.Compile("^(?:" + prefix + ")(?:/|$)")
	if err != nil {
		return nil, err
	}
	if re.NumSubexp() != 1 { // groups written in the pattern shift the tenant's index
		return nil, errors.New("capturing groups are not allowed before :tenant")
	}
	return re, nil
}

// newSnapshot builds an enforcer for modelText and rules.
func newSnapshot(modelText, source string, data []byte, rules []rule) (*snapshot, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	// Casbin's keyMatch2 and regexMatch compile their pattern on every call,
	// i.e. for every rule on every request, and built-in functions cannot be
	// replaced: point the matchers at equivalents that use regular
	// expressions compiled once per policy (see patternCache).
	pc, err := newPatternCache(rules)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidPolicy, source, err)
	}
	for _, ast := range m["m"] {
		ast.Value = cachedFuncRe.ReplaceAllString(ast.Value, "cached_$1(")
	}
	e, err := casbin.NewEnforcer(m, memAdapter(rules))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidPolicy, source, err)
	}
	// "*" in a g rule's domain means every tenant (and the "" platform domain).
	e.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	// Registered before the probe, which builds (and caches) the matcher
	// expression with the functions known at that time.
	e.AddFunction("cached_keyMatch2", pc.keyMatch2)
	e.AddFunction("cached_regexMatch", pc.regexMatch)
	// Surface matcher/model mismatches now rather than on the first request.
	if _, err := e.Enforce("", "", "/", "GET"); err != nil {
		return nil, fmt.Errorf("%w: probe enforcement: %w", ErrInvalidModel, err)
	}
	s := &snapshot{enf: e, roles: map[string]bool{}, rules: len(rules), sum: sha256.Sum256(data), source: source, loadedAt: time.Now()}
	seen := map[string]bool{}
	for _, r := range rules {
		if r.ptype != "p" {
			continue
		}
		re, err := tenantPathRegexp(r.vals[2])
		if err != nil { // checked by parsePolicy
			return nil, fmt.Errorf("%w: %s: object %q: %w", ErrInvalidPolicy, source, r.vals[2], err)
		}
		if re != nil && !seen[re.String()] {
			seen[re.String()] = true
			s.tenantPaths = append(s.tenantPaths, re)
		}
	}
	for _, r := range rules {
		switch {
		case r.ptype == "p":
			s.roles[r.vals[0]] = true
		case r.vals[2] == "*":
			s.roles[r.vals[0]], s.roles[r.vals[1]] = true, true
		default: // user assignment in one tenant: only the parent is a role
			s.roles[r.vals[1]] = true
		}
	}
	return s, nil
}

// cachedFuncRe finds the calls newSnapshot redirects to patternCache.
var cachedFuncRe = regexp.MustCompile(`\b(keyMatch2|regexMatch)\(`)

// patternCache holds the compiled regular expressions of a policy's object
// patterns (as keyMatch2 builds them) and methods (as the model's matcher
// builds them: "^(" + p.act + ")$"). It is read-only after construction.
type patternCache struct {
	key2  map[string]*regexp.Regexp
	regex map[string]*regexp.Regexp
}

func newPatternCache(rules []rule) (*patternCache, error) {
	pc := &patternCache{key2: map[string]*regexp.Regexp{}, regex: map[string]*regexp.Regexp{}}
	for _, r := range rules {
		if r.ptype != "p" {
			continue
		}
		if obj := r.vals[2]; pc.key2[obj] == nil {
			re, err := regexp.Compile(keyMatch2Regexp(obj))
			if err != nil {
				return nil, fmt.Errorf("object %q: %w", obj, err)
			}
			pc.key2[obj] = re
		}
		if act := "^(" + r.vals[3] + ")$"; pc.regex[act] == nil {
			re, err := regexp.Compile(act)
			if err != nil {
				return nil, fmt.Errorf("action %q: %w", r.vals[3], err)
			}
			pc.regex[act] = re
		}
	}
	return pc, nil
}

// keyMatch2Regexp is the regular expression util.KeyMatch2 matches against.
func keyMatch2Regexp(pattern string) string {
	pattern = strings.ReplaceAll(pattern, "/*", "/.*")
	return "^" + pathVarRe.ReplaceAllLiteralString(pattern, "[^/]+") + "$"
}

// keyMatch2 is util.KeyMatch2Func for the cached patterns; other patterns
// (from a custom matcher) fall back to Casbin's implementation.
func (pc *patternCache) keyMatch2(args ...any) (any, error) {
	key, pattern, err := twoStrings("keyMatch2", args)
	if err != nil {
		return false, err
	}
	if re := pc.key2[pattern]; re != nil {
		return re.MatchString(key), nil
	}
	return util.KeyMatch2(key, pattern), nil
}

// regexMatch is util.RegexMatchFunc for the cached expressions.
func (pc *patternCache) regexMatch(args ...any) (any, error) {
	key, pattern, err := twoStrings("regexMatch", args)
	if err != nil {
		return false, err
	}
	if re := pc.regex[pattern]; re != nil {
		return re.MatchString(key), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return false, fmt.Errorf("regexMatch: %w", err)
	}
	return re.MatchString(key), nil
}

func twoStrings(fn string, args []any) (string, string, error) {
	if len(args) == 2 {
		a, ok1 := args[0].(string)
		b, ok2 := args[1].(string)
		if ok1 && ok2 {
			return a, b, nil
		}
	}
	return "", "", fmt.Errorf("%s: want 2 string arguments, got %v", fn, args)
}

// memAdapter feeds already-validated rules to Casbin. It is read-only.
type memAdapter []rule

var _ persist.Adapter = memAdapter(nil)

func (a memAdapter) LoadPolicy(m model.Model) error {
	for _, r := range a {
		if err := persist.LoadPolicyArray(append([]string{r.ptype}, r.vals...), m); err != nil {
			return err
		}
	}
	return nil
}

var errReadOnly = errors.New("authz: policy is read-only at run time; edit the policy file")

func (memAdapter) SavePolicy(model.Model) error                              { return errReadOnly }
func (memAdapter) AddPolicy(string, string, []string) error                  { return errReadOnly }
func (memAdapter) RemovePolicy(string, string, []string) error               { return errReadOnly }
func (memAdapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }
