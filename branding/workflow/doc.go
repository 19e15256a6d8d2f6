// Package workflow is the maker–checker workflow for partner branding:
// a partner edits a draft, submits it, a platform operator approves or
// rejects it, approved versions are immutable and one of them is live.
// The object store ([objstore.Store]) is the system of record; the package
// keeps no state of its own, so any number of gateway instances may run a
// [Service] against the same store.
//
// # Object layout
//
//	drafts/<tenant>.json                      working draft (CAS on its ETag)
//	assets/<sha256>.<ext>                     logo bytes, content-addressed, create-only
//	submissions/<tenant>/<id>.json            frozen copy of a submitted draft (immutable)
//	decisions/<tenant>/<id>.json              approve / reject / withdraw of a submission (create-only: at most one)
//	pending/<tenant>.json                     pending pointer: the submission under review, "" when none (CAS)
//	versions/<tenant>/<0000000001>.json       approved versions, zero-padded number (immutable, create-only)
//	live/<tenant>.json                        live pointer: version number, high-water mark, who/why (CAS)
//	audit/<tenant>/branding/<time>-<event>-<id>.json   audit records (immutable, create-only; package audit, stream AuditStream)
//
// Submission ids sort chronologically ("20260213T150405123456789Z-1a2b3c4d").
//
// # Concurrency
//
// Every state change is a single conditional write, so there is no lock
// service:
//
//   - Submit creates the pending pointer create-only (or CAS from a cleared
//     pointer): of two concurrent submits exactly one wins, the other gets
//     ErrPendingExists.
//   - Approve, Reject and Withdraw first record a decision object
//     create-only: of any number of concurrent decisions on one submission
//     exactly one wins, the others get ErrStale. An approve decision also
//     fixes the new version number (max existing version + 1), so a
//     submission can never produce two versions.
//   - The live pointer is swapped with If-Match and carries a high-water
//     mark (the highest version ever made live). Approval publishes version n
//     only while the mark is below n, which makes completing an approval
//     idempotent and keeps it from undoing a later rollback.
//   - The pending pointer is cleared with If-Match too (never deleted), so a
//     late clear can never remove a newer submission's pointer.
//
// # Crash safety
//
// A decision is completed in idempotent steps after it is recorded:
// (approve only) write version n create-only, swap the live pointer and
// notify; then write the audit records (deterministic keys, so each is
// stored once however often this runs) and finally clear the pending
// pointer. If the process dies anywhere in between, the pending pointer
// still names the decided submission, and the next mutating call for that
// tenant (Submit, Approve, Reject, Withdraw, Rollback) sees the decision
// and rolls it forward before doing its own work. In particular, if it
// dies between writing version n and swapping the live pointer, the
// version is not an orphan for long: the operator's decision stands, so
// the next call publishes it (a retried Approve of the same id returns
// ErrStale after completing it). Nothing is published twice or over a
// later rollback (high-water mark), and no other version can take number
// n, because the next approval can only start once the pointer is clear.
// Read-only calls (Pending, Queue, Review) already treat a decided
// submission as no longer pending. A crash between writing a submission
// and creating the pending pointer leaves an unreferenced submission
// object that no listing shows.
//
// Every successful call has written its audit record before it returns. If
// the state change succeeded but the audit write failed, the call returns
// an error (the change has happened). Decision records are written before
// the pending pointer is cleared, so the next call writes a missing one
// again; a missing submit record is written again when the submission's
// decision is completed.
//
// # Lists and announcements
//
// SubmissionsPage, VersionsPage, AuditPage and QueuePage answer a page at
// a time (Page: opaque cursor, limit default 20, at most 100;
// ErrBadCursor). The store lists only whole prefixes, so a page lists its
// list's keys and reads just the page's objects. Overview summarises
// tenants for operators. Completed approvals and rejections, and
// rollbacks, are told to the Announcer (the partner's webhook) by the call
// that completes them; delivery is never part of the decision.
//
// # Authorization
//
// Callers (the admin API) decide who may call what. The service enforces
// only maker–checker (four eyes): neither the user who submitted nor any
// user who saved the submitted draft since the last approval can approve
// it (ErrSelfApproval). Each draft save is numbered; a submission records
// its authors and the draft number it froze, and approving it marks every
// save up to that number as reviewed, so an edit made after a submission
// still counts against its editor in the next one.
package workflow
