package render

import "strings"

// CSP handling. A Content-Security-Policy header value is a comma-separated
// list of policies, each a semicolon-separated list of directives "name
// source...". Every policy is enforced, so each one must allow the chrome.
// Directive names and keywords are ASCII case-insensitive, the first
// occurrence of a directive wins, and whitespace is ASCII whitespace.
//
// What the chrome needs from a policy:
//   - its <style> element: allowed by the effective style-src-elem (else
//     style-src, else default-src) if that has our nonce, our hash, or
//     'unsafe-inline' without any nonce or hash (with one, browsers ignore
//     'unsafe-inline');
//   - its <link rel=stylesheet> to a same-origin URL: the same directive
//     with 'self' or '*', or the nonce;
//   - the logos under /_livery/assets/: img-src (else default-src) with
//     'self' or '*'.

// AdjustCSP adjusts one Content-Security-Policy header value (possibly
// several comma-separated policies) so that the chrome renders under it.
// styleHash is Chrome.StyleHash() ("sha256-...", without quotes).
//
// If a policy's effective style directive carries a nonce, that nonce is
// returned (pass it to Chrome.Fragments, which puts it on the <style> and
// <link>) and the directive is left unchanged. Otherwise, unless inline
// styles are already allowed, 'sha256-...' is appended to that directive,
// and 'self' is appended when it lacks 'self' and '*'; if the effective
// directive is default-src, a style-src copied from default-src is added
// instead. img-src (or default-src, by adding an img-src copy) gets 'self'
// likewise. A 'none' source is dropped from a directive we add to. A policy
// that needs nothing is returned byte-identical, as is an empty value.
func AdjustCSP(policy, styleHash string) (newPolicy, nonce string) {
	out, nonce := AdjustCSPValues([]string{policy}, styleHash)
	return out[0], nonce
}

// AdjustCSPValues is AdjustCSP over all Content-Security-Policy header
// values of a response (http.Header.Values): all their policies are
// enforced together, so at most one nonce is used for all of them and the
// policies that do not carry it get the hash. The returned slice is new;
// values is not modified.
func AdjustCSPValues(values []string, styleHash string) (newValues []string, nonce string) {
	newValues = make([]string, len(values))
	parsed := make([][]policy, len(values))
	for i, v := range values {
		parsed[i] = parsePolicies(v)
		for _, p := range parsed[i] {
			if nonce == "" {
				if d := p.effective("style-src-elem", "style-src", "default-src"); d != nil {
					nonce = d.nonce()
				}
			}
		}
	}
	for i, v := range values {
		changed := false
		parts := make([]string, len(parsed[i]))
		for j := range parsed[i] {
			p := &parsed[i][j]
			if p.adjust(styleHash, nonce) {
				changed = true
				parts[j] = p.String()
				if j > 0 {
					parts[j] = " " + parts[j]
				}
			} else {
				parts[j] = p.raw
			}
		}
		if changed {
			newValues[i] = strings.Join(parts, ",")
		} else {
			newValues[i] = v
		}
	}
	return newValues, nonce
}

// directive is one parsed directive; name is lower-cased.
type directive struct {
	name, rawName string
	sources       []string
	raw           string // trimmed original text, kept when unchanged
	changed       bool
}

type policy struct {
	raw  string // the original text between commas
	dirs []directive
}

func isCSPSpace(c rune) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func parsePolicies(v string) []policy {
	var out []policy
	for _, raw := range strings.Split(v, ",") {
		p := policy{raw: raw}
		for _, d := range strings.Split(raw, ";") {
			f := strings.FieldsFunc(d, isCSPSpace)
			if len(f) == 0 {
				continue
			}
			p.dirs = append(p.dirs, directive{name: strings.ToLower(f[0]), rawName: f[0], sources: f[1:],
				raw: strings.TrimFunc(d, isCSPSpace)})
		}
		out = append(out, p)
	}
	return out
}

// String serializes the policy with "; " between directives.
func (p *policy) String() string {
	parts := make([]string, len(p.dirs))
	for i, d := range p.dirs {
		if d.changed {
			parts[i] = strings.Join(append([]string{d.rawName}, d.sources...), " ")
		} else {
			parts[i] = d.raw
		}
	}
	return strings.Join(parts, "; ")
}

// index returns the position of the first directive called name, or -1.
func (p *policy) index(name string) int {
	for i := range p.dirs {
		if p.dirs[i].name == name {
			return i
		}
	}
	return -1
}

// effective returns the first present directive of the fallback chain.
func (p *policy) effective(chain ...string) *directive {
	for _, n := range chain {
		if i := p.index(n); i >= 0 {
			return &p.dirs[i]
		}
	}
	return nil
}

// sourceInfo summarizes a source list.
type sourceInfo struct {
	self, star, unsafeInline, nonceOrHash bool
}

func (d *directive) info() sourceInfo {
	var s sourceInfo
	for _, src := range d.sources {
		l := strings.ToLower(src)
		switch {
		case l == "'self'":
			s.self = true
		case l == "*":
			s.star = true
		case l == "'unsafe-inline'":
			s.unsafeInline = true
		case isNonceSource(l) || isHashSource(l):
			s.nonceOrHash = true
		}
	}
	return s
}

func isNonceSource(l string) bool {
	return strings.HasPrefix(l, "'nonce-") && strings.HasSuffix(l, "'") && len(l) > len("'nonce-'")
}

func isHashSource(l string) bool {
	for _, a := range []string{"'sha256-", "'sha384-", "'sha512-"} {
		if strings.HasPrefix(l, a) && strings.HasSuffix(l, "'") && len(l) > len(a)+1 {
			return true
		}
	}
	return false
}

// nonce returns the value of the directive's first usable nonce source.
func (d *directive) nonce() string {
	for _, src := range d.sources {
		if isNonceSource(strings.ToLower(src)) {
			if v := src[len("'nonce-") : len(src)-1]; ValidNonce(v) {
				return v
			}
		}
	}
	return ""
}

func (d *directive) has(src string) bool {
	for _, s := range d.sources {
		if strings.EqualFold(s, src) {
			return true
		}
	}
	return false
}

// hasNonce reports whether d has the source 'nonce-<nonce>' (the keyword
// is case-insensitive, the value is not).
func (d *directive) hasNonce(nonce string) bool {
	if nonce == "" {
		return false
	}
	for _, s := range d.sources {
		if len(s) == len(nonce)+len("'nonce-'") && strings.EqualFold(s[:len("'nonce-")], "'nonce-") &&
			s[len("'nonce-"):len(s)-1] == nonce && s[len(s)-1] == '\'' {
			return true
		}
	}
	return false
}

// add appends sources to d, dropping 'none' (which only means something
// when it is the whole list).
func (d *directive) add(srcs ...string) {
	kept := d.sources[:0:0]
	for _, s := range d.sources {
		if !strings.EqualFold(s, "'none'") {
			kept = append(kept, s)
		}
	}
	d.sources = append(kept, srcs...)
	d.changed = true
}

// adjust applies the changes described at AdjustCSP and reports whether the
// policy changed.
func (p *policy) adjust(styleHash, nonce string) bool {
	changed := false
	if d := p.effective("style-src-elem", "style-src", "default-src"); d != nil {
		info := d.info()
		var need []string
		usesNonce := d.hasNonce(nonce)
		hash := "'" + styleHash + "'"
		inlineOK := usesNonce || info.unsafeInline && !info.nonceOrHash || styleHash != "" && d.has(hash)
		if !inlineOK && styleHash != "" {
			need = append(need, hash)
		}
		if !usesNonce && !info.self && !info.star {
			need = append(need, "'self'")
		}
		if len(need) > 0 {
			changed = true
			if d.name == "default-src" {
				p.dirs = append(p.dirs, directive{name: "style-src", rawName: "style-src",
					sources: append([]string(nil), d.sources...)})
				d = &p.dirs[len(p.dirs)-1]
			}
			d.add(need...)
		}
	}
	if d := p.effective("img-src", "default-src"); d != nil {
		if info := d.info(); !info.self && !info.star {
			changed = true
			if d.name == "default-src" {
				p.dirs = append(p.dirs, directive{name: "img-src", rawName: "img-src",
					sources: append([]string(nil), d.sources...)})
				d = &p.dirs[len(p.dirs)-1]
			}
			d.add("'self'")
		}
	}
	return changed
}
