// Package fieldcheck holds the syntax rules for tenant settings that both
// the configuration file (internal/config) and the tenant records in the
// object store (tenants/records) apply: tenant ids, console host names,
// absolute http(s) URLs, upstream URLs, display names and rate limits. It
// imports nothing of Livery, so a domain package can use it without
// importing the configuration.
//
// Every function returns an error whose message completes a sentence
// starting with the field's name ("tenants[0].upstream must be …").
package fieldcheck

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	// TenantIDPattern is the syntax of a tenant id.
	TenantIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	hostLabel       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// TenantID checks a tenant id.
func TenantID(id string) error {
	if !TenantIDPattern.MatchString(id) {
		return fmt.Errorf("must match %s, got %q", TenantIDPattern, id)
	}
	return nil
}

// NormalizeHost lower-cases a console host name, drops a trailing dot and
// checks its syntax. A port may be given (host:port) to match only that port.
func NormalizeHost(h string) (string, error) {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	name, port := h, ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("invalid port in host %q", h)
		}
	}
	if name == "" || len(name) > 253 {
		return "", fmt.Errorf("must be a host name, got %q", h)
	}
	if net.ParseIP(name) != nil {
		return h, nil
	}
	for _, label := range strings.Split(name, ".") {
		if !hostLabel.MatchString(label) {
			return "", fmt.Errorf("must be a host name (letters, digits, '-', '.'), got %q", h)
		}
	}
	return h, nil
}

// HTTPURL checks that raw is an absolute http or https URL with a host.
func HTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http(s) URL, got %q", raw)
	}
	return nil
}

// Upstream checks an upstream console URL: absolute http(s), with a host,
// without credentials, query or fragment.
func Upstream(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http(s) URL, got %q", raw)
	}
	if u.User != nil {
		return fmt.Errorf("must not contain credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("must not contain a query or fragment")
	}
	return nil
}

// Name checks a display name: required, at most 64 characters, no control
// characters.
func Name(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("is required")
	case utf8.RuneCountInString(s) > 64:
		return fmt.Errorf("must be at most 64 characters")
	case strings.ContainsFunc(s, isControl):
		return fmt.Errorf("must not contain control characters")
	}
	return nil
}

// Plain checks free text: at most max characters, no control characters.
func Plain(s string, max int) error {
	if utf8.RuneCountInString(s) > max {
		return fmt.Errorf("must be at most %d characters", max)
	}
	if strings.ContainsFunc(s, isControl) {
		return fmt.Errorf("must not contain control characters")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// ParseRate parses a limit such as "3/1h" or "600/24h". "off" yields
// off=true; "" yields ok=false (use the default).
func ParseRate(s string) (n int, per time.Duration, off, ok bool, err error) {
	switch s {
	case "":
		return 0, 0, false, false, nil
	case "off":
		return 0, 0, true, true, nil
	}
	num, dur, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false, false, fmt.Errorf("must be N/duration such as 3/1h, or off")
	}
	n, err = strconv.Atoi(num)
	if err != nil || n < 1 {
		return 0, 0, false, false, fmt.Errorf("count must be a positive integer in %q", s)
	}
	per, err = time.ParseDuration(dur)
	if err != nil || per < time.Second {
		return 0, 0, false, false, fmt.Errorf("period must be a duration of at least 1s in %q", s)
	}
	return n, per, false, true, nil
}
