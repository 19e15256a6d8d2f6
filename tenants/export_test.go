package tenants

import "time"

// Internals for the external tests (package tenants_test, which may import
// the adapters, e.g. tenants/redisindex, without an import cycle).

// AdmissionStale is how old an unfinished admission must be to be released.
const AdmissionStale = admissionStale

// Claim is a stored claim of a unique value.
type Claim = claim

// RepairKey is where the index-repair marker of a customer key is stored.
var RepairKey = repairKey

// SetNow replaces the clock of s.
func SetNow(s *Customers, now func() time.Time) { s.o.Now = now }

// SetStaffNow replaces the clock of d.
func SetStaffNow(d *StaffDirectory, now func() time.Time) { d.now = now }
