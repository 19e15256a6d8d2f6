package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/livery/livery/internal/app"
)

// keysCmd manages partner access keys:
//
//	livery keys create -tenant ID     prints a new AK/SK once
//	livery keys list -tenant ID
//	livery keys revoke -tenant ID -key AK
func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const use = "usage: livery keys create|list|revoke -tenant ID [-key AK] [-config FILE]\n\n" +
		"  create   create an access key for the tenant; prints the secret key once\n" +
		"  list     list the tenant's access keys\n" +
		"  revoke   revoke the access key -key of the tenant"
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stdout, use)
		return exitOK
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, use)
		return exitConfig
	}
	sub := args[0]
	switch sub {
	case "create", "list", "revoke":
	default:
		fmt.Fprintf(stderr, "livery keys: unknown subcommand %q (create, list, revoke)\n\n%s\n", sub, use)
		return exitConfig
	}
	fs := newFlagSet("keys "+sub, stderr)
	path := fs.String("config", "", "configuration file")
	tenant := fs.String("tenant", "", "tenant id (tenants[].id in the configuration)")
	ak := fs.String("key", "", "access key (revoke)")
	if code, done := parseFlags(fs, args[1:]); done {
		return code
	}
	if *tenant == "" {
		fmt.Fprintf(stderr, "livery keys %s: -tenant is required\n\n%s\n", sub, use)
		return exitConfig
	}
	if sub == "revoke" && *ak == "" {
		fmt.Fprintln(stderr, "livery keys revoke: -key is required")
		return exitConfig
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitConfig
	}
	known, err := app.TenantIDs(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "livery keys: reading the tenants:", err)
		return exitFail
	}
	if !slices.Contains(known, *tenant) {
		fmt.Fprintf(stderr, "livery keys: unknown tenant %q (tenants: %s)\n", *tenant, strings.Join(known, ", "))
		return exitConfig
	}
	creds, err := app.OpenCredentials(ctx, cfg, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		fmt.Fprintln(stderr, "livery keys:", err)
		return exitFail
	}
	switch sub {
	case "create":
		info, sk, err := creds.Create(ctx, *tenant)
		if err != nil {
			fmt.Fprintln(stderr, "livery keys create:", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "tenant:      %s\naccess key:  %s\nsecret key:  %s\n\nThe secret key is shown only now; store it in the partner platform's secret store.\n",
			info.Tenant, info.AccessKey, sk)
	case "list":
		keys, err := creds.List(ctx, *tenant)
		if err != nil {
			fmt.Fprintln(stderr, "livery keys list:", err)
			return exitFail
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ACCESS KEY\tCREATED\tSTATE")
		for _, k := range keys {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked " + k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", k.AccessKey, k.CreatedAt.Format(time.RFC3339), state)
		}
		w.Flush()
	case "revoke":
		if err := creds.Revoke(ctx, *tenant, *ak); err != nil {
			fmt.Fprintln(stderr, "livery keys revoke:", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "revoked %s (other instances stop accepting it within %s)\n", *ak, cfg.Partner.KeyCacheTTL)
	default:
		fmt.Fprintf(stderr, "livery keys: unknown subcommand %q (create, list, revoke)\n", sub)
		return exitConfig
	}
	return exitOK
}

// reindexCmd rebuilds the Redis customer index from the object store; a
// run longer than a second shows its progress on stderr.
func reindexCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("reindex", stderr)
	path := fs.String("config", "", "configuration file")
	only := fs.String("tenant", "", "only this tenant (default: all)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitConfig
	}
	if *only != "" {
		known, err := app.TenantIDs(ctx, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "livery reindex: reading the tenants:", err)
			return exitFail
		}
		if !slices.Contains(known, *only) {
			fmt.Fprintf(stderr, "livery reindex: unknown tenant %q (tenants: %s)\n", *only, strings.Join(known, ", "))
			return exitConfig
		}
	}
	if cfg.Redis.Embedded() {
		fmt.Fprintln(stdout, "redis is embedded: the index lives inside the serving process and rebuilds itself when missing; nothing to do")
		return exitOK
	}
	err := app.Reindex(ctx, cfg, slog.New(slog.NewTextHandler(stderr, nil)), *only, func(tenant string, n int) {
		fmt.Fprintf(stdout, "tenant %s: %d customers indexed\n", tenant, n)
	}, newProgress(stderr).update)
	if err != nil {
		fmt.Fprintln(stderr, "livery reindex:", err)
		return exitFail
	}
	return exitOK
}
