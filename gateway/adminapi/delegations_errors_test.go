package adminapi

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/web"
)

// TestDelegationErrorTable: every sentinel of package delegation has its
// code; anything else (the store, the audit) is 503 unavailable with
// Retry-After, its cause kept for the log and not shown.
func TestDelegationErrorTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{delegation.ErrInvalidArgument, 400, "invalid_request"},
		{delegation.ErrBadScope, 400, "invalid_request"},
		{delegation.ErrBadDuration, 400, "invalid_request"},
		{delegation.ErrReasonRequired, 400, "invalid_request"},
		{delegation.ErrBadCursor, 400, "invalid_request"},
		{delegation.ErrNotYourGrant, 403, "forbidden"},
		{delegation.ErrNotFound, 404, "not_found"},
		{delegation.ErrUnknownCustomer, 404, "not_found"},
		{delegation.ErrReferralCustomer, 422, "referral_customer"},
		{delegation.ErrAgreementRequired, 409, "agreement_required"},
		{delegation.ErrAgreementVersion, 409, "agreement_version"},
		{delegation.ErrPendingExists, 409, "delegation_pending"},
		{delegation.ErrActiveExists, 409, "delegation_active"},
		{delegation.ErrState, 409, "grant_state"},
		{errors.New("objstore: connection refused"), http.StatusServiceUnavailable, "unavailable"},
	} {
		var e *web.Error
		if !errors.As(delegationError(fmt.Errorf("wrapped: %w", tc.err)), &e) || e.Status != tc.status || e.Code != tc.code {
			t.Errorf("%v: %+v", tc.err, e)
			continue
		}
		if tc.status == 503 && (e.RetryAfter == 0 || e.Message != errUnavailable.message) {
			t.Errorf("503: %+v", e)
		}
	}
}
