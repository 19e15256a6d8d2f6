package gatewaytest

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/livery/livery/association"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/adminapi"
)

// AccountBook is a settable association.Accounts: every account is
// usable (not frozen, not a partner, associated with no one) until Set.
type AccountBook struct {
	mu sync.Mutex
	m  map[string]association.AccountInfo
}

// Set records what the book answers for customer.
func (b *AccountBook) Set(customer string, info association.AccountInfo) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]association.AccountInfo{}
	}
	b.m[customer] = info
}

// Account implements association.Accounts.
func (b *AccountBook) Account(_ context.Context, _, customer string) (association.AccountInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[customer], nil
}

// AssociationEnv is a PartnersEnv with customer association's pages on a
// real association.Service over the env's object store (the directory
// store), its accounts from Accounts.
type AssociationEnv struct {
	*PartnersEnv
	Associations *association.Service
	Accounts     *AccountBook
}

// NewAssociationEnv starts an AssociationEnv.
func NewAssociationEnv(t testing.TB) *AssociationEnv {
	t.Helper()
	a := &AssociationEnv{Accounts: &AccountBook{}}
	a.PartnersEnv = NewPartnersEnv(t, func(e *StaffEnv, o *gateway.Options) {
		a.Associations = association.New(e.Store, association.Options{Accounts: a.Accounts, Logger: slog.New(slog.DiscardHandler)})
		o.AssociationPages = a.Associations
	})
	return a
}

// WithAssociations is a NewStaffEnv option: the admin API's customer
// association routes served by what build returns for the env (usually an
// association.Service on e.Store), invitation links made by link.
func WithAssociations(build func(e *StaffEnv) adminapi.Associations, link func(tenant, token string) string) func(e *StaffEnv, o *gateway.Options) {
	return func(e *StaffEnv, o *gateway.Options) {
		o.Admin.Associations, o.Admin.InvitationLink = build(e), link
	}
}
