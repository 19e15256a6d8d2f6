package partnerapi

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Canonical forms of the client context that registration risk control
// counts by. Two spellings of one address or one device are one key; a value
// that is not an address or a device id is refused, never counted.

// parseClientAddress parses an X-Client-Ip value: one IP address, IPv4 in
// dotted decimal without leading zeros or IPv6 without a zone; no port, no
// brackets, no prefix length. It returns the address key (web.AddrKey).
//
// Errors: a *tenants.FieldError (ErrInvalid) naming the header.
func parseClientAddress(v string) (string, error) {
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return "", &tenants.FieldError{Field: HeaderClientAddress, Kind: tenants.ErrInvalid,
			Reason: "must be one IPv4 or IPv6 address, such as 203.0.113.7 or 2001:db8::7 (no port, zone or leading zeros)"}
	}
	return web.AddrKey(a), nil
}

// peerKey is the address key of the request's source (web.ClientAddrKey:
// the TCP peer, or behind trusted proxies the client they forward for):
// what every per-address limit of the partner API counts by. Keying by a
// load balancer's address would let one client spend everyone's budget.
func (p *partnerAPI) peerKey(c *fiber.Ctx) string { return web.ClientAddrKey(c, p.trusted) }

// Device ids: after trimming and case-folding, 4–128 characters of
// [a-z0-9._:+/=-] (UUIDs, hex and base64 fingerprints fit).
const (
	minDeviceLen = 4
	maxDeviceLen = 128
)

// normalizeDevice returns the canonical form of an X-Client-Device-Id value:
// surrounding white space removed and ASCII letters folded to lower case,
// so "dev-A " and "dev-a" are one device. Anything outside the charset
// (including every non-ASCII character, so Unicode case folding cannot make
// two spellings of one id) or the length bounds is refused.
//
// Errors: a *tenants.FieldError (ErrInvalid) naming the header.
func normalizeDevice(v string) (string, error) {
	v = strings.TrimSpace(v)
	bad := func(reason string) error {
		return &tenants.FieldError{Field: HeaderClientDevice, Reason: reason, Kind: tenants.ErrInvalid}
	}
	if len(v) < minDeviceLen || len(v) > maxDeviceLen {
		return "", bad("must be 4-128 characters")
	}
	// The charset is checked before folding: strings.ToLower would turn
	// some non-ASCII letters (U+212A KELVIN SIGN) into ASCII ones.
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("._:+/=-", b) >= 0) {
			return "", bad("may contain only ASCII letters, digits and . _ : + / = -")
		}
	}
	return strings.ToLower(v), nil
}

// clientContext returns the canonical device id and client address of a
// registration (either may be empty when not sent). Both headers must be
// covered by the signature. With requireDevice, a missing device id is
// refused.
//
// Errors: a *tenants.FieldError (ErrInvalid) naming the header at fault.
func clientContext(c *fiber.Ctx, requireDevice bool) (device, address string, err error) {
	raw, err := signedHeader(c, HeaderClientDevice)
	if err != nil {
		return "", "", err
	}
	if raw != "" {
		if device, err = normalizeDevice(raw); err != nil {
			return "", "", err
		}
	} else if requireDevice {
		return "", "", &tenants.FieldError{Field: HeaderClientDevice, Kind: tenants.ErrInvalid,
			Reason: "is required by this partner's risk settings: send the end user's stable device id, signed"}
	}
	raw, err = signedHeader(c, HeaderClientAddress)
	if err != nil || raw == "" {
		return device, "", err
	}
	address, err = parseClientAddress(raw)
	return device, address, err
}
