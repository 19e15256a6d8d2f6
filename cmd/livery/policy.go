package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/livery/livery/authz"
)

var httpMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// policyCmd implements `livery policy check`: it explains one decision of
// the configured (or given) policy without a running gateway. Exit status:
// 0 allowed, 1 denied, 2 bad input or unusable policy.
func policyCmd(args []string, stdout, stderr io.Writer) int {
	const use = "usage: livery policy check -sub USER -roles ROLE[,ROLE] [-tenant HOME] -dom TENANT -obj PATH -act METHOD [-policy FILE | -config FILE]"
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stdout, use)
		return exitOK
	}
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, use)
		return exitConfig
	}
	fs := newFlagSet("policy check", stderr)
	sub := fs.String("sub", "", "user id (for the record; decisions use roles)")
	roles := fs.String("roles", "", "comma-separated roles of the user (operator, partner_admin, customer_manager, customer, delegated)")
	home := fs.String("tenant", "", "the user's home tenant (empty for operators)")
	dom := fs.String("dom", "", "the tenant the request concerns (empty for platform endpoints)")
	obj := fs.String("obj", "", "request path, e.g. /admin/v1/tenants/acme/customers")
	act := fs.String("act", "GET", "HTTP method")
	policy := fs.String("policy", "", "policy CSV (default: authz.policy_file of the configuration, else the embedded policy)")
	cfgPath := fs.String("config", "", "configuration file (for authz.policy_file)")
	if code, done := parseFlags(fs, args[1:]); done {
		return code
	}
	if *obj == "" || *roles == "" {
		fmt.Fprintln(stderr, "livery policy check: -obj and -roles are required")
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "livery policy check: unexpected argument %q (every value is a flag)\n", fs.Arg(0))
		return exitConfig
	}
	if !strings.HasPrefix(*obj, "/") {
		fmt.Fprintf(stderr, "livery policy check: -obj must be a request path starting with /, got %q\n", *obj)
		return exitConfig
	}
	if !httpMethods[strings.ToUpper(*act)] {
		fmt.Fprintf(stderr, "livery policy check: -act must be an HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS), got %q\n", *act)
		return exitConfig
	}
	path := *policy
	if path == "" {
		cfg, ok := loadConfig(*cfgPath, stderr)
		if !ok {
			return exitConfig
		}
		path = cfg.Authz.PolicyFile
	}
	az, err := authz.NewCasbin("", path, authz.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(stderr, "livery policy check:", err)
		return exitConfig
	}
	var rs []string
	for r := range strings.SplitSeq(*roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, r)
		}
	}
	e := az.Explain(authz.Subject{User: *sub, Roles: rs, Tenant: *home},
		authz.Request{Tenant: *dom, Object: *obj, Action: strings.ToUpper(*act)})
	for _, rt := range e.Roles {
		if !rt.InPolicy {
			fmt.Fprintf(stderr, "livery policy check: role %q is not defined in the policy (%s): a misspelt role?\n", rt.Role, e.Source)
			return exitConfig
		}
	}
	if err := e.Format(stdout); err != nil {
		return exitFail
	}
	switch {
	case e.Err == nil && e.Decision.Allowed:
		return exitOK
	case e.Err == nil || errors.Is(e.Err, authz.ErrDenied):
		return exitFail
	}
	return exitConfig
}
