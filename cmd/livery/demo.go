package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/configs"
	"github.com/livery/livery/internal/config"
)

// demoCmd runs the whole demo in one process: the demo console as the
// upstream, the gateway in front of it with one demo tenant, the embedded
// Redis and the directory store. Only loopback addresses are used.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", stderr)
	consoleAddr := fs.String("console", "127.0.0.1:8080", "console listener address")
	apiAddr := fs.String("api", "127.0.0.1:8081", "API listener address")
	dataDir := fs.String("data", "./data", "object store directory")
	if fs.Parse(args) != nil {
		return exitConfig
	}
	// The demo ignores LIVERY_* overrides: it always runs the embedded setup.
	cfg, problems := config.Parse(configs.Default, func(string) (string, bool) { return "", false })
	if len(problems) > 0 {
		fmt.Fprintln(stderr, "livery demo: embedded configuration invalid:", problems)
		return exitFail
	}
	cfg.Console.Addr, cfg.API.Addr, cfg.Store.Dir.Path = *consoleAddr, *apiAddr, *dataDir
	cfg.Log.Format = "text"
	log := newLogger(cfg.Log, stderr)

	upstreamLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, "livery demo:", err)
		return exitFail
	}
	accountToken := newToken()
	upstream := &http.Server{
		Handler: console.New(console.Options{Name: "Demo Cloud", Logger: log.With("component", "democonsole"),
			AccountToken: accountToken}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := upstream.Serve(upstreamLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo console stopped", "err", err)
		}
	}()
	defer upstream.Close()
	cfg.Tenants[0].Upstream = "http://" + upstreamLn.Addr().String()
	cfg.Tenants[0].Hosts = []string{"localhost", "127.0.0.1"}
	// Accounts are created through the demo console's account API.
	cfg.Tenants[0].Provisioner = config.ProvisionerSpec{Kind: "http",
		URL: cfg.Tenants[0].Upstream + "/_cloud/accounts", Token: accountToken}

	err = runGateway(ctx, cfg, log, func(consoleAddr, apiAddr net.Addr, svc *services) {
		port := consoleAddr.(*net.TCPAddr).Port
		ak, sk, err := demoKey(ctx, svc, cfg.Tenants[0].ID)
		if err != nil {
			log.Error("demo partner key", "err", err)
		}
		fmt.Fprintf(stdout, `
Livery demo is running (Ctrl-C to stop).

  Console through Livery (tenant %q):  http://localhost:%d/
  Headers the console received:          http://localhost:%d/headers
  Demo console directly (upstream):      %s/
  Health / readiness / metrics:          http://%s/healthz  /readyz  /metrics
  Object store directory:                %s   Redis: embedded

  Partner API (SDK-HMAC-SHA256):          http://%s/v2/partners/sub-customers
    demo partner access key (AK):         %s
    demo partner secret key (SK):         %s   (shown once; a new pair each start)
    xaccount_type:                        %s

`, cfg.Tenants[0].ID, port, port, cfg.Tenants[0].Upstream, apiAddr, cfg.Store.Dir.Path, apiAddr, ak, sk, cfg.Tenants[0].ID)
	})
	if err != nil {
		fmt.Fprintln(stderr, "livery demo:", err)
		return exitFail
	}
	return exitOK
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// demoKey revokes the demo tenant's previous keys and makes a fresh pair,
// so that the demo can print a secret (secrets are only shown at creation).
func demoKey(ctx context.Context, svc *services, tenant string) (string, string, error) {
	keys, err := svc.creds.List(ctx, tenant)
	if err != nil {
		return "", "", err
	}
	for _, k := range keys {
		if k.RevokedAt == nil {
			if err := svc.creds.Revoke(ctx, tenant, k.AccessKey); err != nil {
				return "", "", err
			}
		}
	}
	info, sk, err := svc.creds.Create(ctx, tenant)
	return info.AccessKey, sk, err
}
