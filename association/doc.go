// Package association is the customer association lifecycle: partners
// invite existing cloud accounts, customers sign the versioned customer
// association notice and accept or decline, partner admins change a
// customer's association type or unbind it with the customer's
// confirmation (at most once per ChangeMonths months), and manager
// assignments are kept as periods. It is a domain package: no Fiber, no
// gateway, no adapters other than objstore and audit. The object store is
// the system of record; a [Service] keeps no state of its own.
//
// The caller authorizes (a partner admin for invitations and changes, the
// signed-in customer for redeem, sign, accept, decline and answers) and
// passes the actor; the service checks the actor's shape as well (staff
// of the tenant with role partner_admin; a customer account acting for
// itself, never a delegated session) and records it.
//
// The caller supplies [Accounts] (frozen, is a partner, associated
// elsewhere), and optionally a [Registry] (mirrors each binding into the
// customer registry) and an [UnbindHook] (ends the customer's delegation
// grants). Both are called at least once per transition and must be
// idempotent.
//
// Crash safety: every state change is one conditional write (create-only
// or compare-and-swap on the ETag). An acceptance claims the invitation
// (pending → accepting) before it writes the binding, so a concurrent
// revoke or another account loses cleanly; a binding transition stores
// its effect (registry, hook, audit) in the binding and clears it after
// carrying it out, so a crash anywhere is rolled forward by the next call
// touching the invitation or the customer. Audit records have
// deterministic ids and are stored once however often they are written.
//
// See docs/association.md for the states, rules and object layout.
package association
