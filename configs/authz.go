package configs

import _ "embed"

// AuthzModel is the Casbin model (authz/model.conf): RBAC with tenants as
// domains, keyMatch2 paths, regular-expression methods and allow/deny rules.
//
//go:embed authz/model.conf
var AuthzModel []byte

// AuthzPolicy is the default Casbin policy (authz/policy.csv): permissions
// per role and role inheritance. Users' roles come from identity claims.
//
//go:embed authz/policy.csv
var AuthzPolicy []byte
