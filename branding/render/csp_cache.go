package render

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// CSPCache memoizes AdjustCSPValues. A console usually sends the same
// policy on every page with a fresh nonce, so results are cached by the
// policy with its nonce values replaced by placeholders, and the response's
// own nonces are put back into the cached result. The result is always
// exactly AdjustCSPValues(values, styleHash).
//
// The zero value is ready to use and holds at most DefaultCSPCacheEntries
// policies; when full it starts over (policies that change with every
// response then cost what AdjustCSPValues costs, plus the masking). It is
// safe for concurrent use.
type CSPCache struct {
	// Max is the number of policies kept (0: DefaultCSPCacheEntries).
	Max int

	m sync.Map // string (maskedKey) -> cspResult
	n atomic.Int64
}

// DefaultCSPCacheEntries is CSPCache's default size.
const DefaultCSPCacheEntries = 1024

type cspResult struct {
	values []string // masked adjusted values; "" where unchanged
	nonce  string   // masked nonce ("" or a placeholder)
}

// Adjust returns AdjustCSPValues(values, styleHash). Values that need no
// change are returned as the same strings; the returned slice is new.
func (c *CSPCache) Adjust(values []string, styleHash string) (newValues []string, nonce string) {
	if len(values) == 0 {
		return AdjustCSPValues(values, styleHash)
	}
	var nonces []string
	masked := make([]string, len(values))
	for i, v := range values {
		masked[i], nonces = maskNonces(v, nonces)
	}
	key := cspKey(styleHash, masked)
	r, ok := c.m.Load(key)
	if !ok {
		adj, n := AdjustCSPValues(masked, styleHash)
		res := cspResult{values: adj, nonce: n}
		for i := range adj {
			if adj[i] == masked[i] {
				res.values[i] = ""
			}
		}
		max := int64(c.Max)
		if max <= 0 {
			max = DefaultCSPCacheEntries
		}
		if c.n.Add(1) > max {
			c.m.Clear()
			c.n.Store(1)
		}
		c.m.Store(key, res)
		r = res
	}
	res := r.(cspResult)
	newValues = make([]string, len(values))
	for i, v := range res.values {
		if v == "" {
			newValues[i] = values[i]
		} else {
			newValues[i], _ = unmaskNonces(v, nonces)
		}
	}
	if res.nonce != "" {
		nonce = nonces[placeholderIndex(res.nonce)]
	}
	return newValues, nonce
}

// cspKey encodes the hash and the masked values unambiguously (each with
// its length: a value may contain any byte).
func cspKey(styleHash string, masked []string) string {
	n := len(styleHash) + 8
	for _, m := range masked {
		n += len(m) + 8
	}
	b := make([]byte, 0, n)
	for _, s := range append([]string{styleHash}, masked...) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	return string(b)
}

// nonceSources calls f with the start and end (exclusive) of the value of
// every source "'nonce-<value>'" in v whose value is a ValidNonce, in
// order: exactly the sources parsePolicies and directive.nonce treat as
// usable nonces. A source is a token between separators (ASCII whitespace,
// ',' and ';'), and its keyword is ASCII case-insensitive.
func nonceSources(v string, f func(start, end int)) {
	const kw = "'nonce-"
	for i := 0; i+len(kw) < len(v); i++ {
		if v[i] != '\'' || i > 0 && !isCSPSep(v[i-1]) || !strings.EqualFold(v[i:i+len(kw)], kw) {
			continue
		}
		start := i + len(kw)
		end := start
		for end < len(v) && v[end] != '\'' && !isCSPSep(v[end]) {
			end++
		}
		if end < len(v) && v[end] == '\'' && (end+1 == len(v) || isCSPSep(v[end+1])) && ValidNonce(v[start:end]) {
			f(start, end)
		}
		i = end
	}
}

func isCSPSep(c byte) bool { return c == ',' || c == ';' || isCSPSpace(rune(c)) }

// replaceNonces returns v with each nonce value (see nonceSources)
// replaced by f's result; a value for which f reports false stays.
func replaceNonces(v string, f func(val string) (string, bool)) string {
	var b strings.Builder
	last := 0
	nonceSources(v, func(start, end int) {
		repl, ok := f(v[start:end])
		if !ok {
			return
		}
		if b.Len() == 0 {
			b.Grow(len(v) + 32)
		}
		b.WriteString(v[last:start])
		b.WriteString(repl)
		last = end
	})
	if last == 0 { // a value never starts at 0: "'nonce-" precedes it
		return v
	}
	b.WriteString(v[last:])
	return b.String()
}

// maskNonces replaces each nonce value in v by a placeholder (its index in
// nonces, a ValidNonce itself; equal values share one), appending new
// values to nonces.
func maskNonces(v string, nonces []string) (string, []string) {
	masked := replaceNonces(v, func(val string) (string, bool) {
		idx := slices.Index(nonces, val)
		if idx < 0 {
			idx = len(nonces)
			nonces = append(nonces, val)
		}
		return strconv.Itoa(idx), true
	})
	return masked, nonces
}

// unmaskNonces puts the nonce values back into a masked string. It reports
// false if a placeholder has no value (which masked output never has).
func unmaskNonces(v string, nonces []string) (string, bool) {
	ok := true
	out := replaceNonces(v, func(p string) (string, bool) {
		k := placeholderIndex(p)
		if k < 0 || k >= len(nonces) {
			ok = false
			return "", false
		}
		return nonces[k], true
	})
	return out, ok
}

// placeholderIndex returns the index a placeholder stands for, or -1.
func placeholderIndex(p string) int {
	k, err := strconv.Atoi(p)
	if err != nil || k < 0 || strconv.Itoa(k) != p {
		return -1
	}
	return k
}
