package tenants

import (
	"crypto/rand"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Association types of a customer to its partner.
const (
	AssociationReferral = "1" // 顾问销售
	AssociationResale   = "2" // 代售
)

// CreateRequest is a create-customer request as the partner platform sends it.
type CreateRequest struct {
	XAccountID               string  `json:"xaccount_id"`
	XAccountType             string  `json:"xaccount_type"`
	DomainName               *string `json:"domain_name"`
	MobilePhone              *string `json:"mobile_phone"`
	VerificationCode         *string `json:"verification_code"`
	Password                 *string `json:"password"`
	IsCloseMarketMS          *string `json:"is_close_market_ms"`
	CooperationType          *string `json:"cooperation_type"`
	IndirectPartnerID        *string `json:"indirect_partner_id"`
	IncludeAssociationResult *bool   `json:"include_association_result"`
}

// Registration is a validated, normalized CreateRequest.
type Registration struct {
	XAccountID        string
	XAccountType      string
	DomainName        string // empty: generate a random name
	Phone             string // normalized 0086-1xxxxxxxxxx, empty when absent
	VerificationCode  string
	Password          string // empty: SSO-only account
	CloseMarketMS     bool
	AssociationType   string
	IndirectPartnerID string
}

var (
	namePattern  = regexp.MustCompile(`^([a-zA-Z_-]([a-zA-Z0-9_-])*)$`)
	phonePattern = regexp.MustCompile(`^(?:(?:\+|00)86-?)?(1[3-9]\d{9})$`)
	codePattern  = regexp.MustCompile(`^\d{6}$`)
)

// Validate checks every field rule of the create-customer contract and
// returns the normalized registration, or a *FieldError naming the first
// field at fault (unwrapping to ErrInvalid, ErrNameFormat, ErrPhoneFormat or
// ErrPasswordFormat).
func (r CreateRequest) Validate() (Registration, error) {
	var g Registration
	if err := checkText("xaccount_id", r.XAccountID, 128, true); err != nil {
		return g, err
	}
	if err := checkText("xaccount_type", r.XAccountType, 64, true); err != nil {
		return g, err
	}
	g.XAccountID, g.XAccountType = r.XAccountID, r.XAccountType
	if r.DomainName != nil && *r.DomainName != "" {
		if err := ValidateDomainName(*r.DomainName); err != nil {
			return g, err
		}
		g.DomainName = *r.DomainName
	}
	if r.MobilePhone != nil && *r.MobilePhone != "" {
		p, err := NormalizePhone(*r.MobilePhone)
		if err != nil {
			return g, err
		}
		g.Phone = p
		if r.VerificationCode == nil || *r.VerificationCode == "" {
			return g, invalid("verification_code", "is required when mobile_phone is given")
		}
		if !codePattern.MatchString(*r.VerificationCode) {
			return g, invalid("verification_code", "must be 6 digits")
		}
		g.VerificationCode = *r.VerificationCode
	} else if r.VerificationCode != nil && *r.VerificationCode != "" {
		return g, invalid("verification_code", "is only accepted with mobile_phone")
	}
	if r.Password != nil && *r.Password != "" {
		if err := ValidatePassword(*r.Password, g.DomainName, g.Phone); err != nil {
			return g, err
		}
		g.Password = *r.Password
	}
	if r.IsCloseMarketMS != nil {
		switch *r.IsCloseMarketMS {
		case "true":
			g.CloseMarketMS = true
		case "false", "":
		default:
			return g, invalid("is_close_market_ms", `must be "true" or "false"`)
		}
	}
	g.AssociationType = AssociationResale
	if r.CooperationType != nil && *r.CooperationType == "1" {
		g.AssociationType = AssociationReferral
	}
	if r.IndirectPartnerID != nil {
		if err := checkText("indirect_partner_id", *r.IndirectPartnerID, 64, false); err != nil {
			return g, err
		}
		g.IndirectPartnerID = *r.IndirectPartnerID
	}
	return g, nil
}

// checkText enforces a length limit in characters, valid UTF-8 and no
// control characters.
func checkText(field, v string, max int, required bool) error {
	switch {
	case v == "" && required:
		return invalid(field, "is required")
	case !utf8.ValidString(v):
		return invalid(field, "must be valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		return invalid(field, "must be at most %d characters", max)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return invalid(field, "must not contain control characters")
	}
	return nil
}

// ValidateDomainName applies the account-name rules: 5–32 characters of
// ASCII letters, digits, '_' and '-', not starting with a digit, "op_" or
// "shadow_". Look-alike Unicode letters are refused by the ASCII pattern.
func ValidateDomainName(name string) error {
	bad := func(reason string) error {
		return &FieldError{Field: "domain_name", Reason: reason, Kind: ErrNameFormat}
	}
	n := utf8.RuneCountInString(name)
	switch {
	case n < 5 || n > 32:
		return bad("must be 5-32 characters")
	case !namePattern.MatchString(name):
		return bad("may contain only letters, digits, '_' and '-', and must not start with a digit")
	case strings.HasPrefix(strings.ToLower(name), "op_") || strings.HasPrefix(strings.ToLower(name), "shadow_"):
		return bad(`must not start with "op_" or "shadow_"`)
	}
	return nil
}

// NormalizePhone accepts a mainland China mobile number (13812345678,
// +86 / 0086 prefixed, or the check-identity form 0086-13812345678) and
// returns it as 0086-13812345678.
func NormalizePhone(p string) (string, error) {
	if len(p) > 32 {
		return "", &FieldError{Field: "mobile_phone", Reason: "must be at most 32 characters", Kind: ErrPhoneFormat}
	}
	m := phonePattern.FindStringSubmatch(strings.ReplaceAll(p, " ", ""))
	if m == nil {
		return "", &FieldError{Field: "mobile_phone", Reason: "must be a mainland China mobile number such as 0086-13812345678", Kind: ErrPhoneFormat}
	}
	return "0086-" + m[1], nil
}

// ValidatePassword applies the password rules: 8–32 characters, at least
// two of upper case, lower case, digits and special characters, not the
// account name or the name reversed, not containing the phone number.
func ValidatePassword(pw, name, phone string) error {
	bad := func(reason string) error {
		return &FieldError{Field: "password", Reason: reason, Kind: ErrPasswordFormat}
	}
	n := utf8.RuneCountInString(pw)
	if n < 8 || n > 32 {
		return bad("must be 8-32 characters")
	}
	var upper, lower, digit, special int
	for _, r := range pw {
		switch {
		case r > unicode.MaxASCII || unicode.IsControl(r) || r == ' ':
			return bad("may contain only printable ASCII characters without spaces")
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			special = 1
		}
	}
	if upper+lower+digit+special < 2 {
		return bad("must mix at least two of upper case, lower case, digits and special characters")
	}
	if name != "" && (strings.EqualFold(pw, name) || strings.EqualFold(pw, reverse(name))) {
		return bad("must not be the account name or the account name reversed")
	}
	if phone != "" {
		digits := strings.TrimPrefix(phone, "0086-")
		if strings.Contains(pw, digits) {
			return bad("must not contain the mobile phone number")
		}
	}
	return nil
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// RandomDomainName returns a random valid 32-character account name.
func RandomDomainName() string {
	const first = "abcdefghijklmnopqrstuvwxyz"
	const rest = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	out := make([]byte, 32)
	out[0] = first[int(b[0])%len(first)]
	for i := 1; i < 32; i++ {
		out[i] = rest[int(b[i])%len(rest)]
	}
	return string(out)
}
