// Package delegation is delegated operations (代客运维): partner staff
// operate a resale customer's console on the customer's behalf, under a
// grant the customer approved, for named scopes and a bounded time. It
// is the domain layer the gateway's doors call (admin API, the
// customer's "My partners" pages, switch-in, the delegated session's
// checks); it never imports Fiber, the gateway or adapters other than
// objstore and audit. The object store ([objstore.Store]) is the system
// of record; the package keeps no state of its own, so any number of
// gateway instances may run a [Service] against one store.
//
// # Model
//
// Scopes are fixed ([Scopes]); each maps to the Casbin role
// "delegated:<scope>" ([Role]) of configs/authz/policy.csv. Ordering
// marketplace goods is never a scope. A [Grant] moves
//
//	requested ──approve──► approved ──revoke──► revoked
//	    │                     └──(EndsAt)──► expired
//	    ├──reject──► rejected
//	    ├──withdraw──► withdrawn
//	    └──(RequestExpiresAt)──► request_expired
//
// Expiry is lazy: [Grant.StateAt] gives the effective state at any time,
// so no background job is needed for correctness; mutating calls and
// [Service.Reminders] record an observed expiry (state, audit, pointer).
//
// Rules: only resale customers (association type "2"; referral "1" is
// ErrReferralCustomer); the tenant must have accepted the current
// agreement ([AgreementVersion]) before its requests; one pending request
// per customer; at most one active grant per customer, and an approval
// never replaces one silently: a request made while a grant is active
// must name it in Replaces (else ErrActiveExists, at request and again at
// approval), and approving it revokes the old grant as of the approval.
// Only the customer itself approves, rejects (ErrNotYourGrant otherwise,
// also for a delegated session); the customer, staff of the tenant or an
// operator revoke; staff of the tenant request and withdraw. Who among
// the staff may (partner admin, the customer's manager) is the caller's
// decision (authz).
//
// # Object layout
//
//	delegation/<tenant>/grants/<id>.json               the grant (CAS on its ETag: every state change)
//	delegation/<tenant>/customers/<customer>/<id>.json index of a customer's grants (create-only, empty)
//	delegation/<tenant>/pending/<customer>.json        pending pointer: the request awaiting the customer, "" when none (CAS)
//	delegation/<tenant>/active/<customer>.json         active pointer: the approved grant, "" when none (CAS)
//	delegation/<tenant>/agreements/<version>.json      who accepted which agreement version when (create-only)
//	delegation/<tenant>/reminders/<id>-<7d|1d>.json    "ending soon" told (create-only)
//	delegation/<tenant>/actions/<customer>/<time>-<request id|random>.json   activity log (create-only)
//	audit/<tenant>/delegation/<time>-<event>-<id>.json grant events (package audit, stream AuditStream)
//
// Grant ids sort chronologically ("20260213T150405123456789Z-1a2b3c4d").
// Pointers are never deleted: clearing sets the id to "" and remembers
// the cleared one, so every transition is a conditional write.
//
// # Concurrency and crash safety
//
// Every state change is a single conditional write; there is no lock:
//
//   - Request writes the index entry and the grant create-only, then the
//     pending pointer create-only or by CAS from its cleared state: of
//     concurrent requests for one customer exactly one wins (the others
//     get ErrPendingExists and remove their grant). A crash before the
//     pointer leaves a grant that no pointer names: Get, List and
//     ForCustomer do not show it.
//   - A decision (approve, reject, withdraw, the observed expiry of a
//     request) is a CAS of the grant from requested: exactly one wins,
//     the others get ErrState. It is then completed in idempotent steps:
//     (approval) revoke the replaced grant and set the active pointer;
//     audit (deterministic keys, stored once however often this runs);
//     clear the pending pointer last. A crash anywhere leaves the pointer
//     naming a decided grant, and the next mutating call for that
//     customer (Request, Approve, Reject, Withdraw, Revoke) rolls it
//     forward first. ActiveGrant already finds an approved grant whose
//     active pointer was not set yet.
//   - A revocation is a CAS of the grant from approved, then audit, then
//     the active pointer is cleared; an ended grant the pointer still
//     names is completed by the next mutating call or Reminders. The
//     grant object is the truth: readers check it, never just a pointer.
//
// Whoever clears a pointer announces ([Announcer]) and every grant write
// tells the [Notifier] (at least once: recovery tells again).
//
// # Costs
//
// Get, ActiveGrant and Pending are one to three reads. List is one List
// of the tenant's grants (or of the customer's index) and one read per
// grant examined, at most a page (or ScanBudget with a state filter).
// Actions lists the customer's log and reads only the page's records.
// Events reads the tenant's whole delegation audit stream.
//
// # Audit
//
// Grant events (EventRequested ... EventSwitchedOut) go to the audit
// stream "delegation", one record for both sides naming the tenant, the
// customer (DomainID), the grant (GrantID) and the actor. Every
// successful call has written its records before it returns; if the
// change succeeded but the audit write failed, the call returns an error
// (the change has happened) and recovery writes the record again.
// Delegated requests themselves go to the customer's activity log
// ([Service.RecordAction], durable before the gateway forwards a
// mutation).
package delegation
