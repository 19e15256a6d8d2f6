// Command livery is the Livery gateway.
//
//	livery [serve] [-config FILE]   run the gateway (default)
//	livery check-config [-config FILE]
//	                                validate the configuration; exit 2 listing every problem
//	livery keys create|list|revoke -tenant ID [-key AK]
//	                                manage partner access keys (AK/SK)
//	livery reindex [-tenant ID]     rebuild the Redis customer index
//	livery store copy -from SPEC -to SPEC [-verify=true]
//	                                copy every object to another store (dir:PATH or s3)
//	livery policy check -sub U -roles R [-tenant HOME] -dom T -obj PATH -act M
//	                                explain an authorization decision
//	livery healthcheck [-url URL]   exit 0 when the ops listener's /readyz answers 200
//	livery version | --version      print the version, revision, build time, Go version
//	livery help | -h                list the commands
//
// The configuration file defaults to $LIVERY_CONFIG, or to the embedded
// defaults when that is unset. LIVERY_* environment variables override it.
//
// The wiring (configuration → services → gateway) is internal/app. The demo
// is its own command, go run ./cmd/demo, so that this binary links neither
// the demo console, the demo partner platform and its provider nor the
// Huawei Cloud SDK.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/livery/livery/internal/app"
	"github.com/livery/livery/internal/config"
)

// Stamped at build time (deploy/Dockerfile):
//
//	-ldflags "-X main.version=1.4.0 -X main.revision=<git sha> -X main.buildTime=<RFC 3339>"
//
// Empty values fall back to what the Go toolchain recorded
// (app.ReadBuildInfo).
var (
	version   = ""
	revision  = ""
	buildTime = ""
)

// Exit statuses.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line; serve runs until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 {
		switch args[0] { // flags of livery itself, not of serve
		case "-h", "-help", "--help":
			cmd = "help"
		case "-version", "--version":
			cmd = "version"
		}
	}
	switch cmd {
	case "serve":
		return serveCmd(ctx, args, stderr)
	case "demo":
		fmt.Fprintln(stderr, demoMoved)
		return exitConfig
	case "keys":
		return keysCmd(ctx, args, stdout, stderr)
	case "reindex":
		return reindexCmd(ctx, args, stdout, stderr)
	case "store":
		return storeCmd(ctx, args, stdout, stderr)
	case "check-config":
		return checkConfigCmd(args, stdout, stderr)
	case "policy":
		return policyCmd(args, stdout, stderr)
	case "healthcheck":
		return healthcheckCmd(ctx, args, stdout, stderr)
	case "version":
		printVersion(stdout)
		return exitOK
	case "help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "livery: unknown command %q\n\n%s\n", cmd, usage)
		return exitConfig
	}
}

const usage = `usage: livery [command] [flags]

commands:
  serve          run the gateway (default)          [-config FILE]
  check-config   validate the configuration; exit 2 listing every problem [-config FILE]
  keys           create|list|revoke partner access keys -tenant ID [-key AK] [-config FILE]
  reindex        rebuild the Redis customer index from the object store [-tenant ID] [-config FILE]
  store copy     copy every object to another store, resumable and verified -from SPEC -to SPEC [-verify=true] [-config FILE]
                 (SPEC: dir:PATH or s3)
  policy check   explain an authorization decision   -sub U -roles R [-tenant HOME] -dom T -obj PATH -act M [-policy FILE]
  healthcheck    exit 0 when the ops listener's /readyz answers 200, else 1 [-url URL] [-config FILE]
  version        print the version, revision, build time and Go version (also --version)
  help           print this list (also -h)

"livery COMMAND -h" describes a command's flags. The configuration file
defaults to $LIVERY_CONFIG, else the embedded defaults; LIVERY_* variables
override it. Exit status: 0 ok, 1 failure, 2 bad input or configuration.

The demo is its own command: ` + demoCommand

// demoCommand runs the demo, which the production binary does not link;
// demoMoved answers `livery demo`.
const (
	demoCommand = "go run ./cmd/demo"
	demoMoved   = "livery: the demo is its own command now: " + demoCommand + " (same flags: -console -api -ops -partner -data -upstream)"
)

func versionString() string { return app.Version(version) }

func buildInfo() app.BuildInfo { return app.ReadBuildInfo(version, revision, buildTime) }

func printVersion(w io.Writer) {
	b := buildInfo()
	fmt.Fprintf(w, "livery %s\n  revision:   %s\n  built:      %s\n  go:         %s\n",
		b.Version, orUnknown(b.Revision), orUnknown(b.Time), b.GoVersion)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("livery "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args; done reports that the command ends here with
// code: 0 after -h (the flags were printed), 2 for bad flags.
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, true
	case err != nil:
		return exitConfig, true
	}
	return 0, false
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

func serveCmd(ctx context.Context, args []string, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	path := fs.String("config", "", "configuration file (default $LIVERY_CONFIG or the embedded defaults)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitConfig
	}
	log, closeLog := app.NewLogger(cfg.Log, stderr)
	defer closeLog()
	for _, name := range config.UnknownEnv(cfg, os.Environ()) {
		log.Warn("unknown environment variable: not a setting, ignored (livery check-config refuses it)", "name", name)
	}
	a, err := app.Build(ctx, cfg, log, app.Options{Version: versionString(), BuildInfo: buildInfo()})
	if err == nil {
		err = a.Serve(ctx)
		a.Close()
	}
	if err != nil {
		log.Error("livery stopped", "err", err)
		return exitFail
	}
	return exitOK
}

// loadConfig loads path (or $LIVERY_CONFIG, or the embedded defaults) and
// prints every problem to stderr when it is invalid.
func loadConfig(path string, stderr io.Writer) (*config.Config, bool) {
	if path == "" {
		path = os.Getenv("LIVERY_CONFIG")
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintln(stderr, "livery:", ve.Error())
		} else {
			fmt.Fprintln(stderr, "livery: configuration:", err)
		}
		return nil, false
	}
	if problems := app.CheckReferencedFiles(cfg); len(problems) > 0 {
		fmt.Fprintf(stderr, "livery: configuration has %d problem(s):\n  %s\n", len(problems), strings.Join(problems, "\n  "))
		return nil, false
	}
	return cfg, true
}

func checkConfigCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check-config", stderr)
	path := fs.String("config", "", "configuration file (default $LIVERY_CONFIG or the embedded defaults)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitConfig
	}
	if unknown := config.UnknownEnv(cfg, os.Environ()); len(unknown) > 0 {
		fmt.Fprintf(stderr, "livery: %d unknown environment variable(s), not settings (misspelt, or a tenant index past the list?):\n  %s\n",
			len(unknown), strings.Join(unknown, "\n  "))
		return exitConfig
	}
	fmt.Fprintf(stdout, "configuration ok: %d tenant(s), store %s, redis %s\n",
		len(cfg.Tenants), cfg.Store.Driver, redisMode(cfg.Redis))
	// The file seeds the tenant records: say what the next start does with
	// them (the rule: docs/partners.md).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines, err := app.PlanTenants(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stdout, "tenants: cannot read the store to compare it with the file (%v); at start, the file creates the tenants the store lacks and overwrites those marked managed: file\n", err)
		return exitOK
	}
	fmt.Fprintln(stdout, "tenants at the next start (managed: file — the file wins; managed: store — the store wins):")
	for _, l := range lines {
		fmt.Fprintln(stdout, "  "+l)
	}
	return exitOK
}

func redisMode(r config.Redis) string {
	switch {
	case r.Embedded():
		return "embedded"
	case len(r.Addrs) > 0:
		return "cluster"
	case len(r.SentinelAddrs) > 0:
		return "sentinel"
	default:
		return "standalone"
	}
}
