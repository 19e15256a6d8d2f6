package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/internal/ids"
)

// LiveryPrefix starts every path Livery serves itself on the console
// listener (sign-in, preview, assets); an exact route table holds them.
const LiveryPrefix = "/_livery/"

// InvitationPath + <token> is a customer invitation link on a tenant's
// console (served by the mypartners door; the admin API and the web UI
// hand such links out).
const InvitationPath = LiveryPrefix + "invitations/"

// AssetsPath is where branding images are served, by content address
// (<sha256>.<ext>), on the console listener.
const AssetsPath = LiveryPrefix + "assets/"

// RandomToken returns 256 random bits, base64url: session ids, login
// state, preview tokens.

func RandomToken() string { return ids.Token() }

// HashToken is the base64url SHA-256 of a token: what is stored of it.
func HashToken(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SessionOf returns the request's session, if signed in.
func SessionOf(c *fiber.Ctx) *sessions.Session {
	s, _ := c.Locals(LocalSession).(*sessions.Session)
	return s
}

// sanitizeCode keeps an IdP error code printable and short.
func SanitizeCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' || r == '-' {
			b.WriteRune(r)
		}
		if b.Len() >= 64 {
			break
		}
	}
	return b.String()
}

// SafeReturnPath accepts only same-origin relative paths. Anything that a
// browser could resolve to another origin — "//evil", "/\evil", "https:",
// their percent-encoded forms, control characters — becomes "/".
func SafeReturnPath(rd string) string {
	if rd == "" || len(rd) > 2048 || rd[0] != '/' {
		return "/"
	}
	for _, probe := range []string{rd, percentDecode(rd), percentDecode(percentDecode(rd))} {
		if len(probe) > 1 && (probe[1] == '/' || probe[1] == '\\') {
			return "/"
		}
		if strings.ContainsAny(probe, "\\\r\n\t\x00") {
			return "/"
		}
	}
	u, err := url.Parse(rd)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return rd
}

func percentDecode(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// param returns a copy of the route parameter name. Fiber's values point
// into the request buffer, which the next request reuses; the admin API
// hands parameters to services that may keep them (cache keys), so they
// are copied once here.
func Param(c *fiber.Ctx, name string) string { return strings.Clone(c.Params(name)) }
