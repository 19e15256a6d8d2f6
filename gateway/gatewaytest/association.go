package gatewaytest

import (
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/adminapi"
)

// WithAssociations is a NewStaffEnv option: the admin API's customer
// association routes served by what build returns for the env (usually an
// association.Service on e.Store), invitation links made by link.
func WithAssociations(build func(e *StaffEnv) adminapi.Associations, link func(tenant, token string) string) func(e *StaffEnv, o *gateway.Options) {
	return func(e *StaffEnv, o *gateway.Options) {
		o.Admin.Associations, o.Admin.InvitationLink = build(e), link
	}
}
