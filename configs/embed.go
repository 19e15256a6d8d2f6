// Package configs holds Livery's configuration data. Default is
// livery.yaml, the embedded configuration that runs on a fresh machine.
package configs

import _ "embed"

// Default is the embedded development configuration (livery.yaml).
//
//go:embed livery.yaml
var Default []byte
