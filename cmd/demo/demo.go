// Command demo is Livery's quickstart: the whole demo in one process.
//
//	go run ./cmd/demo [-console ADDR] [-api ADDR] [-ops ADDR] [-partner ADDR] [-data DIR] [-upstream URL]
//
// It runs the gateway (wired by internal/app, as livery serve is) with the
// embedded defaults, the embedded Redis and the directory store, in front
// of the demo console, with the demo partner platform and its OpenID
// provider, on loopback only, and prints the URLs. It lives apart from
// cmd/livery so that the production binary links none of the demo.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/configs"
	"github.com/livery/livery/internal/app"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/tenants"
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

// run runs the whole demo in one process until ctx ends: the demo console
// as the upstream, the demo partner platform (sign-up page + OpenID Connect
// provider), and the gateway in front of the console with one demo tenant,
// the embedded Redis and the directory store. Only loopback is used.
//
// With -upstream the demo console is not started: the gateway fronts the
// console at that URL instead (a democonsole process, started with the
// same account token in DEMOCONSOLE_ACCOUNT_TOKEN as the demo's
// LIVERY_DEMO_ACCOUNT_TOKEN, and -assertion-jwks pointing at the demo's API
// listener). The benchmark runs it that way, so that the upstream's work
// stays out of the gateway's process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	consoleAddr := fs.String("console", "127.0.0.1:8080", "console listener address")
	apiAddr := fs.String("api", "127.0.0.1:8081", "API listener address")
	opsAddr := fs.String("ops", "127.0.0.1:8082", "operations listener address (health, readiness, metrics)")
	partnerAddr := fs.String("partner", "127.0.0.1:9091", "demo partner platform address")
	cloudAddr := fs.String("cloud", "127.0.0.1:9092", "Demo Cloud account sign-in address (invited customers sign in there)")
	dataDir := fs.String("data", "./data", "object store directory")
	upstream := fs.String("upstream", "", "URL of a running democonsole to front (default: one in this process);\n"+
		"its account token comes from LIVERY_DEMO_ACCOUNT_TOKEN")
	if fs.Parse(args) != nil {
		return exitConfig
	}
	ext, err := externalUpstream(*upstream, os.Getenv(demoTokenEnv))
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return exitConfig
	}
	// The demo ignores LIVERY_* overrides: it always runs the embedded setup.
	cfg, problems := config.Parse(configs.Default, func(string) (string, bool) { return "", false })
	if len(problems) > 0 {
		fmt.Fprintln(stderr, "demo: embedded configuration invalid:", problems)
		return exitFail
	}
	cfg.Console.Addr, cfg.API.Addr, cfg.Ops.Addr, cfg.Store.Dir.Path = *consoleAddr, *apiAddr, *opsAddr, *dataDir
	cfg.Shutdown.DrainDelay = 0 // no load balancer in front: Ctrl-C stops at once
	cfg.Log.Format = "text"
	log, closeLog := app.NewLogger(cfg.Log, stderr)
	defer closeLog()
	if err := runDemo(ctx, cfg, *partnerAddr, *cloudAddr, ext, log, stdout); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return exitFail
	}
	return exitOK
}

// demoTokenEnv holds the account token of a democonsole given by -upstream.
const demoTokenEnv = "LIVERY_DEMO_ACCOUNT_TOKEN"

// demoUpstream is a democonsole run outside the demo's process.
type demoUpstream struct{ url, token string }

// externalUpstream checks -upstream and its token; nil means the demo runs
// its own console.
func externalUpstream(rawURL, token string) (*demoUpstream, error) {
	if rawURL == "" {
		return nil, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("-upstream %q: want an http URL of a democonsole, such as http://127.0.0.1:9090", rawURL)
	}
	if token == "" {
		return nil, fmt.Errorf("-upstream needs the democonsole's account token in %s (the value of its DEMOCONSOLE_ACCOUNT_TOKEN)", demoTokenEnv)
	}
	return &demoUpstream{url: "http://" + u.Host, token: token}, nil
}

func runDemo(ctx context.Context, cfg *config.Config, partnerAddr, cloudAddr string, ext *demoUpstream, log *slog.Logger, stdout io.Writer) error {
	// Bind everything first: every URL is known before sign-in is configured.
	lns, err := app.Listen(cfg)
	if err != nil {
		return err
	}
	partnerLn, err := net.Listen("tcp", partnerAddr)
	if err != nil {
		lns.Console.Close()
		lns.API.Close()
		lns.Ops.Close()
		return fmt.Errorf("demo partner listener: %w", err)
	}
	cloudLn, err := net.Listen("tcp", cloudAddr)
	if err != nil {
		partnerLn.Close()
		lns.Console.Close()
		lns.API.Close()
		lns.Ops.Close()
		return fmt.Errorf("demo cloud sign-in listener: %w", err)
	}
	d := newDemoPartner(lns, partnerLn)
	cloud := newDemoCloud(cloudLn)
	if err := cloud.start(cloudLn, d.consoleHosts, log.With("component", "democloud")); err != nil {
		cloudLn.Close()
		partnerLn.Close()
		lns.Console.Close()
		lns.API.Close()
		lns.Ops.Close()
		return err
	}
	defer cloud.close()
	upstreamURL, accountToken := "", ""
	if ext != nil {
		upstreamURL, accountToken = ext.url, ext.token
	} else {
		upstreamLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			partnerLn.Close()
			lns.Console.Close()
			lns.API.Close()
			lns.Ops.Close()
			return err
		}
		accountToken = newToken()
		upstreamURL = "http://" + upstreamLn.Addr().String()
		upstream := &http.Server{
			Handler: console.New(console.Options{Name: "Demo Cloud", Logger: log.With("component", "democonsole"),
				AccountToken: accountToken, Existing: cloud.existing(), AssertionJWKSURL: d.apiURL + "/.well-known/jwks.json", AssertionAudience: upstreamURL}),
			ReadHeaderTimeout: 10 * time.Second,
		}
		go serveDemo(upstream, upstreamLn, log, "demo console")
		defer upstream.Close()
	}
	partner := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go serveDemo(partner, partnerLn, log, "demo partner")
	defer partner.Close()

	t := &cfg.Tenants[0]
	t.Upstream = upstreamURL
	t.Hosts = []string{"localhost", "127.0.0.1"}
	// Accounts are created through the demo console's account API.
	t.Provisioner = config.ProvisionerSpec{Kind: "http", URL: upstreamURL + "/_cloud/accounts", Token: accountToken}
	d.configure(cfg)
	cloud.configure(cfg)
	cfg.Branding.CloudLogo = config.CloudLogo{URLZH: console.LogoPath, URLEN: console.LogoPath, AltZH: "演示云", AltEN: "Demo Cloud"}

	a, err := app.Build(ctx, cfg, log, app.Options{Listeners: lns, Version: app.Version("")})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := d.prepare(ctx, a, t.ID, log); err != nil {
		log.Error("demo partner platform", "err", err)
	} else {
		d.print(stdout, cfg, upstreamURL)
		cloud.print(stdout, d.apiURL, cfg.Tenants[0].ID)
	}
	return a.Serve(ctx)
}

// prepare makes a fresh partner key, seeds the demo branding and starts the
// partner platform with the key. A seeding failure is logged and the demo
// goes on unbranded.
func (d *demoPartner) prepare(ctx context.Context, a *app.App, tenant string, log *slog.Logger) error {
	var err error
	if d.ak, d.sk, err = demoKey(ctx, a.Credentials(), tenant); err != nil {
		return fmt.Errorf("demo partner key: %w", err)
	}
	if err := seedDemoBranding(ctx, a.BrandingWorkflow(), tenant); err != nil {
		log.Error("demo branding", "err", err)
	}
	return d.start(d.ak, d.sk, tenant, log.With("component", "demopartner"))
}

// print writes the demo's URLs, staff passwords and partner key.
func (d *demoPartner) print(stdout io.Writer, cfg *config.Config, upstreamURL string) {
	t := cfg.Tenants[0]
	fmt.Fprintf(stdout, `
Livery demo is running (Ctrl-C to stop).

  1. Sign up on the demo partner platform:  %s/
  2. Then "go to console" (partner sign-in), or open the console directly:
     Console through Livery (tenant %q):     %s/
     Who the console sees (verified):         %s/whoami
     Headers the console received:            %s/headers
  Demo console directly (upstream):           %s/
  Health / readiness / metrics (ops):         %s/healthz  /readyz  /metrics
  Identity assertion keys (JWKS):             %s/.well-known/jwks.json
  Object store directory:                     %s   Redis: embedded

  Staff web UI (partner staff and operators):  %s/ui/
    operator:          user %-16s password %s
    partner admin:     user %-16s password %s
    customer manager:  user %-16s password %s
    (a customer manager sees the customers a partner admin assigns to them,
     after both have signed in once)
    delegated operations (代客运维): sign up a customer (1.), sign in to the UI as
     partner-admin, Customers → the customer → "Delegated operations"; the customer
     approves in the console's account menu → My partners (docs/delegation.md)

  Partner API (SDK-HMAC-SHA256):              %s/v2/partners/sub-customers
    demo partner access key (AK):             %s
    demo partner secret key (SK):             %s   (shown once; a new pair each start)
    xaccount_type:                            %s

`, d.partnerURL, t.ID, d.consoleURL, d.consoleURL, d.consoleURL, upstreamURL, "http://"+d.opsAddr, d.apiURL, cfg.Store.Dir.Path,
		d.apiURL, demoOperator, d.operatorPassword, demoPartnerAdmin, d.adminPassword, demoManager, d.managerPassword,
		d.apiURL, d.ak, d.sk, t.ID)
}

func serveDemo(srv *http.Server, ln net.Listener, log *slog.Logger, what string) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error(what+" stopped", "err", err)
	}
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// demoKey revokes the demo tenant's previous keys and makes a fresh pair,
// so that the demo can print a secret (secrets are only shown at creation).
func demoKey(ctx context.Context, creds *tenants.Credentials, tenant string) (string, string, error) {
	keys, err := creds.List(ctx, tenant)
	if err != nil {
		return "", "", err
	}
	for _, k := range keys {
		if k.RevokedAt == nil {
			if err := creds.Revoke(ctx, tenant, k.AccessKey); err != nil {
				return "", "", err
			}
		}
	}
	info, sk, err := creds.Create(ctx, tenant)
	return info.AccessKey, sk, err
}
