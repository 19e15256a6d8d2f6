package console

import (
	"strings"
)

// Which inbound headers the upstream may see (copyRequestHeaders); the
// rules are in docs/security.md, "Headers sent to the upstream".

// plainHeaderName reports whether the header name k has only letters,
// digits and "-".
func plainHeaderName(k []byte) bool {
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return len(k) > 0
}

// forwardingNames are headers in which proxies pass on the client's
// address, scheme, host or original URL; upstreams may trust them.
// Together with every X-Forwarded-* name they are accepted only from
// trusted proxies.
var forwardingNames = []string{"Forwarded", "X-Forwarded", "X-Real-Ip", "X-Client-Ip", "Client-Ip",
	"True-Client-Ip", "X-Cluster-Client-Ip", "Cf-Connecting-Ip", "Fastly-Client-Ip", "X-Original-Url",
	"X-Rewrite-Url", "X-Original-Uri", "X-Original-Host", "X-Host", "X-Url-Scheme", "Front-End-Https"}

// isForwardingHeader reports whether k is a forwarding header (any
// X-Forwarded-* name or one of forwardingNames), ignoring case.
func isForwardingHeader(k []byte) bool {
	const xf = "x-forwarded-"
	if len(k) > len(xf) && strings.EqualFold(string(k[:len(xf)]), xf) {
		return true
	}
	for _, n := range forwardingNames {
		if headerIs(k, n) {
			return true
		}
	}
	return false
}

// methodOverrideNames are the headers with which frameworks (Rails,
// Laravel, Symfony, Express's method-override, ASP.NET, Spring's
// HiddenHttpMethodFilter variants) let a request name another method.
var methodOverrideNames = []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"}

// isMethodOverride reports whether k names a method-override header.
func isMethodOverride(k []byte) bool {
	for _, n := range methodOverrideNames {
		if headerIs(k, n) {
			return true
		}
	}
	return false
}
