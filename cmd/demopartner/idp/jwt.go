package idp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// sign serialises claims as a compact JWS with the current key (RS256).
func (p *Provider) sign(claims map[string]any, typ string) (string, error) {
	p.mu.Lock()
	k := p.keys[len(p.keys)-1]
	p.mu.Unlock()
	return signWith(k, claims, typ)
}

func signWith(k signingKey, claims map[string]any, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("idp: marshal claims: %w", err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.key, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", fmt.Errorf("idp: signer: %w", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("idp: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// idClaims builds the ID token claims for u in session s.
func (p *Provider) idClaims(clientID string, u User, s session, nonce, accessToken string) map[string]any {
	now := p.now()
	c := map[string]any{}
	maps.Copy(c, u.Claims)
	maps.Copy(c, map[string]any{
		"iss": p.issuer, "sub": u.Subject, "aud": clientID,
		"iat": now.Unix(), "exp": now.Add(p.ttl).Unix(),
		"auth_time": s.authTime.Unix(), "sid": s.sid,
	})
	if nonce != "" {
		c["nonce"] = nonce
	}
	if u.Name != "" {
		c["name"] = u.Name
	}
	if u.Email != "" {
		c["email"] = u.Email
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	return c
}

// issueIDToken signs claims, applying defect d.
func (p *Provider) issueIDToken(claims map[string]any, d Defect) (string, error) {
	now := p.now()
	switch d {
	case DefectNone, DefectAlgNone, DefectBadSignature, DefectUnknownKID:
	case DefectExpired:
		claims["iat"], claims["exp"] = now.Add(-2*p.ttl).Unix(), now.Add(-time.Minute).Unix()
	case DefectWrongAudience:
		claims["aud"] = "not-" + fmt.Sprint(claims["aud"])
	case DefectWrongIssuer:
		claims["iss"] = p.issuer + "/wrong"
	case DefectWrongNonce:
		claims["nonce"] = "wrong-" + fmt.Sprint(claims["nonce"])
	default:
		return "", fmt.Errorf("idp: unknown defect %d", d)
	}
	switch d {
	case DefectAlgNone:
		p.mu.Lock()
		kid := p.keys[len(p.keys)-1].kid
		p.mu.Unlock()
		h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
		b, err := json.Marshal(claims)
		if err != nil {
			return "", err
		}
		enc := base64.RawURLEncoding.EncodeToString
		return enc(h) + "." + enc(b) + ".", nil
	case DefectUnknownKID:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", err
		}
		return signWith(signingKey{kid: "unknown-" + randomString(4), key: k}, claims, "JWT")
	}
	tok, err := p.sign(claims, "JWT")
	if err != nil || d != DefectBadSignature {
		return tok, err
	}
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return "", err
	}
	sig[len(sig)/2] ^= 0x01
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig), nil
}

// MintIDToken returns an ID token for a registered client and user with
// defect d (DefectNone gives a valid token). It starts a new IdP-side
// session whose sid is recorded for SessionsOf.
func (p *Provider) MintIDToken(clientID, subject, nonce string, d Defect) (string, error) {
	if _, ok := p.client(clientID); !ok {
		return "", fmt.Errorf("idp: unknown client %q", clientID)
	}
	u, ok := p.findUser(subject)
	if !ok || u.Subject != subject {
		return "", fmt.Errorf("idp: unknown subject %q", subject)
	}
	s := p.newSession(subject)
	return p.issueIDToken(p.idClaims(clientID, u, s, nonce, ""), d)
}

// LogoutToken returns an OpenID Connect Back-Channel Logout 1.0 logout token
// for clientID (typ "logout+jwt", events claim, jti, iat, exp, no nonce).
// At least one of subject and sid must be set.
func (p *Provider) LogoutToken(clientID, subject, sid string) (string, error) {
	if _, ok := p.client(clientID); !ok {
		return "", fmt.Errorf("idp: unknown client %q", clientID)
	}
	if subject == "" && sid == "" {
		return "", errors.New("idp: logout token needs a subject or a sid")
	}
	now := p.now()
	c := map[string]any{
		"iss": p.issuer, "aud": clientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": randomString(16), "events": map[string]any{backchannelEvent: map[string]any{}},
	}
	if subject != "" {
		c["sub"] = subject
	}
	if sid != "" {
		c["sid"] = sid
	}
	return p.sign(c, "logout+jwt")
}

// SendBackchannelLogout POSTs a logout token to the client's
// BackchannelLogoutURI. It fails when the client has none, the request fails
// or the client does not answer 2xx.
func (p *Provider) SendBackchannelLogout(ctx context.Context, clientID, subject, sid string) error {
	c, ok := p.client(clientID)
	if !ok || c.BackchannelLogoutURI == "" {
		return fmt.Errorf("idp: client %q has no back-channel logout URI", clientID)
	}
	tok, err := p.LogoutToken(clientID, subject, sid)
	if err != nil {
		return err
	}
	body := url.Values{"logout_token": {tok}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("idp: back-channel logout: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("idp: back-channel logout: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("idp: back-channel logout to %s: status %d: %s", c.BackchannelLogoutURI, resp.StatusCode, bytes.TrimSpace(msg))
	}
	p.log.Info("idp: back-channel logout sent", "client_id", clientID, "sub", subject, "sid", sid)
	return nil
}

// parseOwnToken verifies a token signed by any of the provider's keys
// (expiry is not checked: id_token_hint may be expired) and returns its claims.
func (p *Provider) parseOwnToken(tok string) (map[string]any, error) {
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID
	p.mu.Lock()
	var key *rsa.PublicKey
	for _, k := range p.keys {
		if k.kid == kid {
			key = &k.key.PublicKey
		}
	}
	p.mu.Unlock()
	if key == nil {
		return nil, errors.New("unknown key")
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, err
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	if c["iss"] != p.issuer {
		return nil, errors.New("wrong issuer")
	}
	return c, nil
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}
