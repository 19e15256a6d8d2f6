package gatewaytest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/livery/livery/delegation"
	"github.com/livery/livery/tenants"
)

// CustomerDirectory is delegation's view of the customer registry: a
// customer's account name and association type.
func CustomerDirectory(c *tenants.Customers) delegation.Directory {
	return delegation.DirectoryFunc(func(ctx context.Context, tenant, domainID string) (delegation.CustomerInfo, bool, error) {
		cust, err := c.ByDomainID(ctx, tenant, domainID)
		if err != nil || cust == nil {
			return delegation.CustomerInfo{}, false, err
		}
		return delegation.CustomerInfo{Name: cust.DomainName, AssociationType: cust.AssociationType}, true, nil
	})
}

// startDelegations is the env's delegated operations on its store and
// customer registry (grant events in the store's "delegation" audit
// stream).
func (e *StaffEnv) startDelegations(t testing.TB) {
	t.Helper()
	e.Delegations = delegation.New(e.Store, CustomerDirectory(e.Customers), delegation.Options{Logger: slog.New(slog.DiscardHandler)})
}
