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
		line := strings.TrimSpace(sc.Text())
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

// checkPathPattern rejects patterns that would make keyMatch2 panic at
// request time (it compiles the pattern as a regular expression).
func checkPathPattern(p string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("not a valid keyMatch2 pattern: %v", r)
		}
	}()
	util.KeyMatch2("/", p)
	return nil
}

// newSnapshot builds an enforcer for modelText and rules.
func newSnapshot(modelText, source string, data []byte, rules []rule) (*snapshot, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	e, err := casbin.NewEnforcer(m, memAdapter(rules))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidPolicy, source, err)
	}
	// "*" in a g rule's domain means every tenant (and the "" platform domain).
	e.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	// Surface matcher/model mismatches now rather than on the first request.
	if _, err := e.Enforce("", "", "/", "GET"); err != nil {
		return nil, fmt.Errorf("%w: probe enforcement: %w", ErrInvalidModel, err)
	}
	s := &snapshot{enf: e, roles: map[string]bool{}, rules: len(rules), sum: sha256.Sum256(data), source: source, loadedAt: time.Now()}
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

func (memAdapter) SavePolicy(model.Model) error                        { return errReadOnly }
func (memAdapter) AddPolicy(string, string, []string) error            { return errReadOnly }
func (memAdapter) RemovePolicy(string, string, []string) error         { return errReadOnly }
func (memAdapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }
