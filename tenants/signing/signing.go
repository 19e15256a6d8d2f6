// Package signing verifies (and produces) Huawei Cloud AK/SK request
// signatures of the SDK-HMAC-SHA256 scheme, wire-compatible with
// github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer.
//
//	CanonicalRequest = METHOD "\n" CanonicalURI "\n" CanonicalQuery "\n"
//	                   CanonicalHeaders "\n" SignedHeaders "\n" BodyHash
//	StringToSign     = "SDK-HMAC-SHA256\n" X-Sdk-Date "\n" HexSHA256(CanonicalRequest)
//	Authorization    = "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b>, Signature=<hex>"
//
// Everything here is a pure function of its arguments (Verify reads the
// clock only when Options.Now is zero). Verify does not detect replays: the
// SDK legitimately produces identical signatures for identical requests
// within one second, so replay protection belongs to the caller.
//
// Note the scheme does not sign a trailing '/' of the path (the canonical
// URI always ends in '/'), nor the Host unless "host" is a signed header
// (the official Go SDK never signs it), nor Content-Type (the SDK never
// signs it either).
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	// Algorithm is the only algorithm accepted in the Authorization header.
	Algorithm = "SDK-HMAC-SHA256"
	// DateFormat is the layout of the X-Sdk-Date header (always UTC).
	DateFormat = "20060102T150405Z"
	// MaxSkew is the default tolerated distance between X-Sdk-Date and now.
	MaxSkew = 15 * time.Minute

	// HeaderDate carries the signing time; it must be a signed header.
	HeaderDate = "X-Sdk-Date"
	// HeaderContentSha256 optionally carries the body hash (or UnsignedPayload).
	HeaderContentSha256 = "X-Sdk-Content-Sha256"
	// UnsignedPayload as X-Sdk-Content-Sha256 excludes the body from the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"

	maxAuthorizationLen = 1024
	maxSignedHeaders    = 32
	maxHeaderNameLen    = 64
	maxAccessKeyLen     = 128
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (test with errors.Is); the wrapping text adds context but never the
// secret or a computed signature.
var (
	// ErrMissing: no Authorization header, or no X-Sdk-Date header.
	ErrMissing = errors.New("signing: missing authentication header")
	// ErrMalformed: unparsable Authorization (too long, unknown algorithm,
	// bad or missing fields, signature not 64 hex digits), SignedHeaders
	// empty / over 32 / not lower-case tokens / unsorted / repeated / without
	// x-sdk-date, a signed header absent from the request, an undecodable
	// path or query, or (Sign only) unusable arguments.
	ErrMalformed = errors.New("signing: malformed request authentication")
	// ErrDuplicate: Authorization, X-Sdk-Date or X-Sdk-Content-Sha256 given
	// more than once.
	ErrDuplicate = errors.New("signing: duplicated authentication header")
	// ErrSkew: X-Sdk-Date unparsable, or further than MaxSkew from Now in
	// either direction.
	ErrSkew = errors.New("signing: request date unparsable or outside allowed skew")
	// ErrUnsignedPayload: X-Sdk-Content-Sha256 is UNSIGNED-PAYLOAD while
	// Options.AllowUnsignedPayload is false.
	ErrUnsignedPayload = errors.New("signing: unsigned payload not allowed")
	// ErrBodyHash: X-Sdk-Content-Sha256 is given and differs from the
	// SHA-256 of the body.
	ErrBodyHash = errors.New("signing: body hash mismatch")
	// ErrSignature: the signature does not match (or the secret is empty).
	ErrSignature = errors.New("signing: signature mismatch")
)

// Request is the part of an HTTP request covered by the signature.
type Request struct {
	Method   string // as received, e.g. "POST" (not case-folded)
	Path     string // the escaped path as received, without the query
	RawQuery string // the raw query as received, without '?'
	Host     string // Host header / authority; used when "host" is signed
	// Header holds all request headers. Keys should be canonical
	// (http.CanonicalHeaderKey); lookups are case-insensitive regardless.
	Header http.Header
	Body   []byte
}

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKey     string
	SignedHeaders []string // lower-case, sorted, includes "x-sdk-date"
	Signature     []byte   // 32 bytes
}

// Options tunes Verify.
type Options struct {
	Now                  time.Time     // zero: time.Now()
	MaxSkew              time.Duration // <= 0: MaxSkew (15 minutes)
	AllowUnsignedPayload bool          // accept X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD
}

// ParseAuthorization parses and validates the request's Authorization header.
// Errors: ErrMissing (absent), ErrDuplicate (more than one, in any letter
// case), ErrMalformed (everything else, see ErrMalformed). It does not check
// that the signed headers are present; Verify does.
func ParseAuthorization(req Request) (Authorization, error) {
	vals := headerValues(req.Header, "Authorization")
	switch {
	case len(vals) == 0:
		return Authorization{}, fmt.Errorf("%w: no Authorization header", ErrMissing)
	case len(vals) > 1:
		return Authorization{}, fmt.Errorf("%w: %d Authorization headers", ErrDuplicate, len(vals))
	}
	v := strings.TrimSpace(vals[0])
	if v == "" {
		return Authorization{}, fmt.Errorf("%w: empty Authorization header", ErrMissing)
	}
	if len(v) > maxAuthorizationLen {
		return Authorization{}, fmt.Errorf("%w: Authorization longer than %d bytes", ErrMalformed, maxAuthorizationLen)
	}
	alg, rest, _ := strings.Cut(v, " ")
	if alg != Algorithm {
		return Authorization{}, fmt.Errorf("%w: unknown algorithm %.32q", ErrMalformed, alg)
	}
	var a Authorization
	var access, signed, sig string
	var seen [3]bool
	for field := range strings.SplitSeq(rest, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(field), "=")
		idx := -1
		switch key {
		case "Access":
			idx, access = 0, val
		case "SignedHeaders":
			idx, signed = 1, val
		case "Signature":
			idx, sig = 2, val
		}
		if !ok || idx < 0 || seen[idx] || val == "" {
			return Authorization{}, fmt.Errorf("%w: bad Authorization field %.32q", ErrMalformed, key)
		}
		seen[idx] = true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return Authorization{}, fmt.Errorf("%w: Authorization needs Access, SignedHeaders and Signature", ErrMalformed)
	}
	if len(sig) != 2*sha256.Size {
		return Authorization{}, fmt.Errorf("%w: signature must be %d hex digits", ErrMalformed, 2*sha256.Size)
	}
	var err error
	if a.Signature, err = hex.DecodeString(sig); err != nil {
		return Authorization{}, fmt.Errorf("%w: signature is not hex", ErrMalformed)
	}
	a.AccessKey = access
	a.SignedHeaders = strings.Split(signed, ";")
	if err := a.validate(); err != nil {
		return Authorization{}, err
	}
	return a, nil
}

func (a *Authorization) validate() error {
	if a.AccessKey == "" || len(a.AccessKey) > maxAccessKeyLen {
		return fmt.Errorf("%w: access key empty or longer than %d bytes", ErrMalformed, maxAccessKeyLen)
	}
	if len(a.Signature) != sha256.Size {
		return fmt.Errorf("%w: signature must be %d bytes", ErrMalformed, sha256.Size)
	}
	return validateSignedHeaders(a.SignedHeaders)
}

func isTokenLower(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func validateSignedHeaders(sh []string) error {
	if len(sh) == 0 || len(sh) > maxSignedHeaders {
		return fmt.Errorf("%w: need 1 to %d signed headers, got %d", ErrMalformed, maxSignedHeaders, len(sh))
	}
	hasDate := false
	for i, h := range sh {
		if h == "" || len(h) > maxHeaderNameLen {
			return fmt.Errorf("%w: signed header name empty or too long", ErrMalformed)
		}
		for j := 0; j < len(h); j++ {
			if !isTokenLower(h[j]) {
				return fmt.Errorf("%w: signed header %.64q is not a lower-case token", ErrMalformed, h)
			}
		}
		if i > 0 && sh[i-1] >= h {
			return fmt.Errorf("%w: SignedHeaders not strictly sorted at %q", ErrMalformed, h)
		}
		hasDate = hasDate || h == "x-sdk-date"
	}
	if !hasDate {
		return fmt.Errorf("%w: SignedHeaders must include x-sdk-date", ErrMalformed)
	}
	return nil
}

// requestDate returns the single X-Sdk-Date value and its parsed time.
func requestDate(h http.Header) (string, time.Time, error) {
	vals := headerValues(h, HeaderDate)
	switch {
	case len(vals) == 0:
		return "", time.Time{}, fmt.Errorf("%w: no X-Sdk-Date header", ErrMissing)
	case len(vals) > 1:
		return "", time.Time{}, fmt.Errorf("%w: %d X-Sdk-Date headers", ErrDuplicate, len(vals))
	}
	t, err := time.Parse(DateFormat, vals[0])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: X-Sdk-Date %.32q is not %s", ErrSkew, vals[0], DateFormat)
	}
	return vals[0], t, nil
}

// payloadHash returns the body hash that goes into the canonical request:
// the X-Sdk-Content-Sha256 value when present (after checking it), else the
// hex SHA-256 of the body. With check false (Sign) the header is taken as is.
func payloadHash(dst []byte, req *Request, allowUnsigned bool, check bool) ([]byte, error) {
	sum := sha256.Sum256(req.Body)
	vals := headerValues(req.Header, HeaderContentSha256)
	switch {
	case len(vals) == 0:
		return hex.AppendEncode(dst, sum[:]), nil
	case len(vals) > 1:
		return dst, fmt.Errorf("%w: %d X-Sdk-Content-Sha256 headers", ErrDuplicate, len(vals))
	}
	v := vals[0]
	if check {
		if v == UnsignedPayload {
			if !allowUnsigned {
				return dst, ErrUnsignedPayload
			}
		} else {
			var want [2 * sha256.Size]byte
			hex.Encode(want[:], sum[:])
			if !strings.EqualFold(v, string(want[:])) {
				return dst, fmt.Errorf("%w: X-Sdk-Content-Sha256 does not match the body", ErrBodyHash)
			}
		}
	}
	return append(dst, v...), nil
}

// Verify checks that auth (usually from ParseAuthorization) is a valid
// signature of req under secret. It returns nil on success, or an error
// wrapping one of: ErrMalformed (auth invalid, a signed header absent,
// undecodable path/query), ErrMissing (no X-Sdk-Date), ErrDuplicate
// (repeated X-Sdk-Date or X-Sdk-Content-Sha256), ErrSkew, ErrUnsignedPayload,
// ErrBodyHash, ErrSignature (mismatch or empty secret). Checks run in that
// order, cheapest first; the signature is compared in constant time.
// Verify never panics and does not modify req.
func Verify(req Request, auth Authorization, secret []byte, o Options) error {
	if err := auth.validate(); err != nil {
		return err
	}
	date, t, err := requestDate(req.Header)
	if err != nil {
		return err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	maxSkew := o.MaxSkew
	if maxSkew <= 0 {
		maxSkew = MaxSkew
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%w: X-Sdk-Date %s is %s from now", ErrSkew, date, d.Round(time.Second))
	}
	var hashBuf [2 * sha256.Size]byte
	bodyHash, err := payloadHash(hashBuf[:0], &req, o.AllowUnsignedPayload, true)
	if err != nil {
		return err
	}
	var stsBuf [160]byte
	sts, err := appendStringToSign(stsBuf[:0], &req, auth.SignedHeaders, date, string(bodyHash))
	if err != nil {
		return err
	}
	if len(secret) == 0 {
		return fmt.Errorf("%w: empty secret", ErrSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(sts)
	var sumBuf [sha256.Size]byte
	if !hmac.Equal(mac.Sum(sumBuf[:0]), auth.Signature) {
		return ErrSignature
	}
	return nil
}

// Sign computes the Authorization header value for req, signed at t with
// accessKey/secret. The caller must send "X-Sdk-Date: t.UTC().Format(DateFormat)"
// (Sign does not modify req; an X-Sdk-Date already in req.Header must equal
// that value). signedHeaders are lower-cased, sorted and de-duplicated and
// x-sdk-date is added; nil selects the official SDK's choice: every header
// in req.Header except Authorization, Content-Type* and names containing
// '_'. The body hash is X-Sdk-Content-Sha256 when present (taken literally,
// as the SDK does), else the SHA-256 of req.Body. Errors wrap ErrMalformed
// (empty or unusable key/secret, invalid or absent signed headers,
// undecodable path/query) or ErrDuplicate.
func Sign(req Request, accessKey string, secret []byte, signedHeaders []string, t time.Time) (authorization string, err error) {
	if accessKey == "" || len(accessKey) > maxAccessKeyLen || strings.ContainsAny(accessKey, " ,;=\t\r\n") {
		return "", fmt.Errorf("%w: unusable access key", ErrMalformed)
	}
	if len(secret) == 0 {
		return "", fmt.Errorf("%w: empty secret", ErrMalformed)
	}
	date := t.UTC().Format(DateFormat)
	switch vals := headerValues(req.Header, HeaderDate); {
	case len(vals) > 1:
		return "", fmt.Errorf("%w: %d X-Sdk-Date headers", ErrDuplicate, len(vals))
	case len(vals) == 1 && vals[0] != date:
		return "", fmt.Errorf("%w: X-Sdk-Date header differs from signing time", ErrMalformed)
	}
	h := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		if !strings.EqualFold(k, HeaderDate) {
			h[k] = v
		}
	}
	h[HeaderDate] = []string{date}
	if signedHeaders == nil {
		for k := range h {
			lk := strings.ToLower(k)
			if lk != "authorization" && !strings.HasPrefix(lk, "content-type") && !strings.Contains(k, "_") {
				signedHeaders = append(signedHeaders, lk)
			}
		}
	}
	sh := make([]string, 0, len(signedHeaders)+1)
	for _, s := range signedHeaders {
		sh = append(sh, strings.ToLower(s))
	}
	sh = append(sh, "x-sdk-date")
	slices.Sort(sh)
	sh = slices.Compact(sh)
	if err := validateSignedHeaders(sh); err != nil {
		return "", err
	}
	req.Header = h
	bodyHash, err := payloadHash(nil, &req, true, false)
	if err != nil {
		return "", err
	}
	sts, err := appendStringToSign(nil, &req, sh, date, string(bodyHash))
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(sts)
	return fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%x",
		Algorithm, accessKey, strings.Join(sh, ";"), mac.Sum(nil)), nil
}
