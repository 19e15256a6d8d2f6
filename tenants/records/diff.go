package records

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Change is one changed field of a record. For a secret field Before and
// After are empty and Secret is set: a diff says a secret changed, never
// what it was or became.
type Change struct {
	Field  string `json:"field"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Secret bool   `json:"secret,omitempty"`
}

// Diff lists the fields that differ between before and after, in a fixed
// order. Version, UpdatedBy/At and the pending audit record are not
// compared. Sealed secrets compare by their sealed bytes (the store keeps
// them as they are unless the secret really changes).
func Diff(before, after Record) []Change {
	var out []Change
	str := func(field, b, a string) {
		if b != a {
			out = append(out, Change{Field: field, Before: b, After: a})
		}
	}
	secret := func(field string, b, a []byte) {
		if !bytes.Equal(b, a) {
			out = append(out, Change{Field: field, Secret: true})
		}
	}
	str("name.zh", before.Name.ZH, after.Name.ZH)
	str("name.en", before.Name.EN, after.Name.EN)
	str("hosts", strings.Join(before.Hosts, ","), strings.Join(after.Hosts, ","))
	str("upstream", before.Upstream, after.Upstream)
	str("xaccount_type", before.XAccountType, after.XAccountType)
	str("provisioner.kind", before.Provisioner.Kind, after.Provisioner.Kind)
	str("provisioner.url", before.Provisioner.URL, after.Provisioner.URL)
	secret("provisioner.token", before.Provisioner.TokenSealed, after.Provisioner.TokenSealed)
	str("risk.per_device", before.Risk.PerDevice, after.Risk.PerDevice)
	str("risk.per_address", before.Risk.PerAddress, after.Risk.PerAddress)
	str("risk.per_partner", before.Risk.PerPartner, after.Risk.PerPartner)
	str("risk.require_device", strconv.FormatBool(before.Risk.RequireDevice), strconv.FormatBool(after.Risk.RequireDevice))
	str("association.type", before.Association.Type, after.Association.Type)
	b, a := before.SignIn, after.SignIn
	str("sign_in", presence(b != nil), presence(a != nil))
	if b == nil {
		b = &SignIn{}
	}
	if a == nil {
		a = &SignIn{}
	}
	str("sign_in.issuer", b.Issuer, a.Issuer)
	str("sign_in.client_id", b.ClientID, a.ClientID)
	secret("sign_in.client_secret", b.ClientSecretSealed, a.ClientSecretSealed)
	str("sign_in.scopes", strings.Join(b.Scopes, " "), strings.Join(a.Scopes, " "))
	str("sign_in.account_claim", b.AccountClaim, a.AccountClaim)
	str("status", before.Status, after.Status)
	str("managed", before.Managed, after.Managed)
	return out
}

func presence(on bool) string {
	if on {
		return "set"
	}
	return "none"
}

// Fields returns the names of the changed fields.
func Fields(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Field
	}
	return out
}

// FormatDiff renders changes for an audit record's detail:
// `upstream: "http://a" → "http://b"; sign_in.client_secret: changed`.
func FormatDiff(cs []Change) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		if c.Secret {
			parts[i] = c.Field + ": changed"
			continue
		}
		parts[i] = fmt.Sprintf("%s: %q → %q", c.Field, c.Before, c.After)
	}
	return strings.Join(parts, "; ")
}
