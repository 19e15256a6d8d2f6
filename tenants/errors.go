package tenants

import (
	"errors"
	"fmt"
)

// Domain errors of the customer registry. Callers test them with errors.Is;
// the partner API maps each to its reference error code in one place.
var (
	// ErrInvalid: a parameter is missing, malformed or out of range.
	ErrInvalid = errors.New("invalid parameter")
	// ErrNameFormat: domain_name breaks the account-name rules.
	ErrNameFormat = errors.New("account name format invalid")
	// ErrPhoneFormat: mobile_phone is not a mainland China mobile number.
	ErrPhoneFormat = errors.New("phone format invalid")
	// ErrPasswordFormat: password breaks the password rules.
	ErrPasswordFormat = errors.New("password format invalid")
	// ErrNameTaken: the account name belongs to another account.
	ErrNameTaken = errors.New("account name already exists")
	// ErrXAccountUsed: the xaccount is bound to a different account name.
	ErrXAccountUsed = errors.New("xaccount_id already used")
	// ErrPhoneExists: this partner already registered a customer with the phone.
	ErrPhoneExists = errors.New("phone already exists")
	// ErrPhoneLimit: the phone reached its registration limit.
	ErrPhoneLimit = errors.New("phone has reached its registration limit")
	// ErrNotFound: the tenant has no such (active) customer.
	ErrNotFound = errors.New("no such customer")
	// ErrForbidden: the request concerns another partner's data.
	ErrForbidden = errors.New("access denied")
	// ErrInProgress: the same registration is being admitted by another
	// request that did not finish in time; a retry gets its outcome.
	ErrInProgress = errors.New("registration in progress")
	// ErrUnavailable: a dependency (Redis, object store, provisioner) failed;
	// nothing the caller did is at fault and a retry is safe.
	ErrUnavailable = errors.New("temporarily unavailable")
)

// FieldError names the request field at fault. It unwraps to its Kind
// (ErrInvalid, ErrNameFormat, ErrPhoneFormat or ErrPasswordFormat).
type FieldError struct {
	Field  string
	Reason string
	Kind   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

func (e *FieldError) Unwrap() error { return e.Kind }

func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...), Kind: ErrInvalid}
}
