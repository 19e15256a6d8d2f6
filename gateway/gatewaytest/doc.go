// Package gatewaytest is the one test harness of the gateway: it starts
// whole gateways on loopback listeners in front of test upstreams, with
// real dependencies (Redis, an object store, a test OIDC provider, the
// Casbin authorizer), and has the request helpers the tests share.
//
// It is test support: only the tests of the gateway root and of its doors
// import it (TestDoorsImportNoOtherDoor), so it is never linked into
// cmd/livery. A door's tests reach the rest of the gateway through it
// alone; Options and BrandingOptions are the root's, so that a test can
// adjust the gateway it starts without importing the root.
//
// The environments, from the smallest:
//
//   - StartGateway: one tenant "demo" in front of an upstream (often the
//     demo console, StartDemoUpstream).
//   - NewIdentityEnv: customer sign-in with a partner IdP, one or several
//     gateway instances sharing it.
//   - StartPartnerEnv: the partner API (/v2) on real dependencies.
//   - NewStaffEnv: staff sign-in, the admin API and customer sign-in in
//     front of a Recorder, two tenants (acme, globex).
//   - NewBrandEnv: a StaffEnv that also runs branding (workflow, live
//     cache, chrome, assets, preview).
//   - NewStoreEnv: a BrandEnv whose doors to the object store share one
//     bounded store that a test can take away.
//
// Helpers fail the test (t.Fatal) on an unexpected error; they return
// answers as they came, whatever their status.
package gatewaytest

import "github.com/livery/livery/gateway"

// Options and BrandingOptions are the gateway root's: tests adjust them in
// an Option or a NewStaffEnv callback.
type (
	Options         = gateway.Options
	BrandingOptions = gateway.BrandingOptions
)
