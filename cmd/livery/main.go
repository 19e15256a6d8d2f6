// Command livery is the Livery gateway.
//
//	livery [serve] [-config FILE]   run the gateway (default)
//	livery demo [-console ADDR] [-api ADDR] [-data DIR]
//	                                the gateway, the demo console, embedded Redis and ./data
//	livery check-config [-config FILE]
//	                                validate the configuration; exit 2 listing every problem
//	livery keys create|list|revoke -tenant ID [-key AK]
//	                                manage partner access keys (AK/SK)
//	livery reindex [-tenant ID]     rebuild the Redis customer index
//	livery policy check -sub U -roles R [-tenant HOME] -dom T -obj PATH -act M
//	                                explain an authorization decision
//	livery version                  print the version
//
// The configuration file defaults to $LIVERY_CONFIG, or to the embedded
// defaults when that is unset. LIVERY_* environment variables override it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/livery/livery/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

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

// run executes one command line; serve and demo run until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCmd(ctx, args, stderr)
	case "demo":
		return demoCmd(ctx, args, stdout, stderr)
	case "keys":
		return keysCmd(ctx, args, stdout, stderr)
	case "reindex":
		return reindexCmd(ctx, args, stdout, stderr)
	case "check-config":
		return checkConfigCmd(args, stdout, stderr)
	case "policy":
		return policyCmd(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "livery", versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "livery: unknown command %q\n\n%s\n", cmd, usage)
		return exitConfig
	}
}

const usage = `usage: livery [command] [flags]

commands:
  serve          run the gateway (default)          -config FILE
  demo           run the gateway with the demo console, embedded Redis and ./data
  check-config   validate the configuration and exit -config FILE
  keys           create|list|revoke partner access keys -tenant ID [-key AK]
  reindex        rebuild the Redis customer index from the object store [-tenant ID]
  policy check   explain an authorization decision   -sub U -roles R -tenant HOME -dom T -obj PATH -act M
  version        print the version`

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if rev != "" {
			return "dev-" + rev[:min(12, len(rev))] + dirty
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
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
	if problems := checkReferencedFiles(cfg); len(problems) > 0 {
		fmt.Fprintf(stderr, "livery: configuration has %d problem(s):\n  %s\n", len(problems), strings.Join(problems, "\n  "))
		return nil, false
	}
	return cfg, true
}

func checkConfigCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check-config", stderr)
	path := fs.String("config", "", "configuration file (default $LIVERY_CONFIG or the embedded defaults)")
	if fs.Parse(args) != nil {
		return exitConfig
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitConfig
	}
	fmt.Fprintf(stdout, "configuration ok: %d tenant(s), store %s, redis %s\n",
		len(cfg.Tenants), cfg.Store.Driver, redisMode(cfg.Redis))
	return exitOK
}

func redisMode(r config.Redis) string {
	switch {
	case r.Embedded():
		return "embedded"
	case len(r.Addrs) > 0:
		return "cluster"
	default:
		return "standalone"
	}
}
