package delegation

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
)

// AgreementVersion is the current version of the delegated-operation
// agreement. Changing the text means a new version: every partner then
// accepts it again before its next request.
const AgreementVersion = "2026-01"

var (
	//go:embed agreement/zh.txt
	agreementZH string
	//go:embed agreement/en.txt
	agreementEN string
)

// AgreementText is the agreement a partner accepts, in both languages.
type AgreementText struct {
	Version string `json:"version"`
	ZH      string `json:"zh"`
	EN      string `json:"en"`
}

// Agreement returns the current agreement.
func Agreement() AgreementText {
	return AgreementText{Version: AgreementVersion, ZH: agreementZH, EN: agreementEN}
}

// Acceptance records who accepted which agreement version for a tenant,
// and when. Stored create-only under
// delegation/<tenant>/agreements/<version>.json: the first acceptance of
// a version stands.
type Acceptance struct {
	Tenant  string        `json:"tenant"`
	Version string        `json:"version"`
	By      authz.Subject `json:"by"`
	At      time.Time     `json:"at"`
}

// AcceptAgreement records that staff accepted agreement version for
// tenant. Accepting a version already accepted returns the earlier
// acceptance (nil error): who accepted first stands. Errors:
// ErrAgreementVersion (not AgreementVersion), ErrNotYourGrant (staff of
// another tenant, or a customer), ErrInvalidArgument, a store error, the
// audit sink's error (the acceptance is stored).
func (s *Service) AcceptAgreement(ctx context.Context, tenant, version string, staff authz.Subject) (Acceptance, error) {
	if err := checkIDs(tenant, ""); err != nil {
		return Acceptance{}, err
	}
	if err := checkStaff(tenant, staff, false); err != nil {
		return Acceptance{}, err
	}
	if version != AgreementVersion {
		return Acceptance{}, fmt.Errorf("%w: %q; the current version is %s / 当前版本为 %s", ErrAgreementVersion, version, AgreementVersion, AgreementVersion)
	}
	a := Acceptance{Tenant: tenant, Version: version, By: staff, At: s.clock()}
	if _, err := s.putJSON(ctx, agreementKey(tenant, version), a, createOnly()); err != nil {
		if !isPrecondition(err) {
			return Acceptance{}, fmt.Errorf("delegation: store acceptance: %w", err)
		}
		had, found, err := s.Accepted(ctx, tenant)
		if err != nil {
			return Acceptance{}, err
		}
		if !found {
			return Acceptance{}, fmt.Errorf("delegation: acceptance of %s vanished", tenant)
		}
		a = had
	}
	return a, s.record(ctx, audit.Record{ID: "agreement-" + version, Time: a.At, Event: EventAgreementAccepted,
		Tenant: tenant, Actor: a.By, Detail: "version " + version})
}

// Accepted returns the tenant's acceptance of the current agreement
// version; found is false when it has not been accepted. Errors:
// ErrInvalidArgument, a store error.
func (s *Service) Accepted(ctx context.Context, tenant string) (a Acceptance, found bool, err error) {
	if err := checkIDs(tenant, ""); err != nil {
		return Acceptance{}, false, err
	}
	a, _, found, err = getJSON[Acceptance](ctx, s.store, agreementKey(tenant, AgreementVersion))
	return a, found, err
}
