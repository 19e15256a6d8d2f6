// Package records keeps partner (tenant) records in the object store: the
// durable form of what the configuration file's tenants section holds
// today, editable at runtime (issue 17). It is a domain package: no Fiber,
// no Redis, no HTTP; its only port to storage is internal/objstore and it
// audits through internal/audit (stream "tenants").
//
// # Storage layout
//
//	tenants/registry.json   every record, one JSON document
//
// Tenants are few (hundreds), so they are kept in one document written by
// compare-and-swap on its ETag. One document makes every write atomic
// across tenants: a host moves from one tenant to another, or two creates
// race for a host, and either the whole change is stored or none of it —
// there is no host index to repair after a crash. Reading all tenants (a
// Snapshot) is one GET.
//
// Each record carries its own Version (1 on create, +1 per change): Update
// compares it with the version the caller read (the ETag an admin API
// hands out) and fails with ErrConflict when it moved. Writes to other
// tenants in between are retried transparently.
//
// # Secrets
//
// The sign-in client secret and the provisioner token are sealed with
// AES-256-GCM under the master key, bound to (tenant id, field) as
// additional data, like partner secret keys (tenants/credentials.go). They
// are never logged nor audited: the audit diff says "changed".
//
// # Audit and crash safety
//
// Every change is audited in the "tenants" stream with the changed fields
// (before → after; secrets masked). The audit record of a change is stored
// inside the record in the same atomic write (PendingAudit) and written to
// the audit log right after, under a key derived from the record's version,
// so writing it again is harmless. If the process dies in between, the
// next write to that tenant, or Seed at start, writes it.
//
// # Seeding from the configuration file
//
// Seed creates the file's tenants that the store lacks. For a tenant that
// both have, the record's Managed mark decides: "file" records are
// overwritten from the file (status and version history kept; audited as
// "seeded from file" with the changed fields); "store" records are left as
// the store has them (the report names the fields where the file differs).
// Records the file does not mention are left alone. See SeedReport.
package records
