package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/livery/livery/gateway"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/logbuf"
	"github.com/livery/livery/internal/objstore"
)

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("livery "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func serveCmd(ctx context.Context, args []string, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	path := fs.String("config", "", "configuration file (default $LIVERY_CONFIG or the embedded defaults)")
	if fs.Parse(args) != nil {
		return exitConfig
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitConfig
	}
	log, closeLog := newLogger(cfg.Log, stderr)
	defer closeLog()
	if err := runGateway(ctx, cfg, log, nil, nil); err != nil {
		log.Error("livery stopped", "err", err)
		return exitFail
	}
	return exitOK
}

// newLogger builds the process logger on w: lines are batched as
// c.BufferBytes and c.FlushInterval say (warnings and errors go out at
// once). The returned function writes what is still buffered; call it
// before exiting.
func newLogger(c config.Log, w io.Writer) (*slog.Logger, func()) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	bw := logbuf.New(w, c.BufferBytes, c.FlushInterval)
	var h slog.Handler
	if c.Format == "text" {
		h = slog.NewTextHandler(bw, opts)
	} else {
		h = slog.NewJSONHandler(bw, opts)
	}
	return slog.New(logbuf.Handler(h, bw, slog.LevelWarn)), func() { _ = bw.Close() }
}

// listeners are pre-bound console and API listeners (the demo binds them
// first so that it knows every URL before configuring sign-in).
type listeners struct{ console, api net.Listener }

// runGateway opens the services, starts both listeners (lns, or bound from
// cfg when nil) and serves until ctx ends, then shuts down gracefully.
// ready, if set, is called once serving, with the bound addresses and the
// services.
func runGateway(ctx context.Context, cfg *config.Config, log *slog.Logger, lns *listeners, ready func(console, api net.Addr, svc *services)) error {
	if lns == nil {
		var err error
		if lns, err = listen(cfg); err != nil {
			return err
		}
	}
	tuneRuntime(cfg.Runtime, os.Getenv, log)
	consoleLn, apiLn := lns.console, lns.api
	defer consoleLn.Close()
	defer apiLn.Close()
	svc, err := openServices(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	svc.runIndexRepair(ctx)
	idp, err := buildIdentity(cfg, svc, log)
	if err != nil {
		return err
	}
	defer idp.sessions.Close()
	idp.watchPolicy(ctx, log)
	brand, err := buildBranding(cfg, svc, idp, log)
	if err != nil {
		return err
	}
	ids := make([]string, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		ids[i] = t.ID
	}
	brand.run(ctx, ids, log)
	svc.branding = brand
	trusted, err := parseCIDRs(cfg.Proxy.TrustedProxies)
	if err != nil {
		return err
	}
	gw := gateway.New(gateway.Options{
		Logger:  log,
		Tenants: svc.tenants,
		Checks: []gateway.Check{
			{Name: "redis", Check: func(ctx context.Context) error { return svc.rdb.Ping(ctx).Err() }},
			{Name: "store", Check: svc.store.Ping},
		},
		Console: listenerOptions(cfg.Console),
		API:     listenerOptions(cfg.API),
		Proxy: gateway.ProxyOptions{
			ConnectTimeout:        cfg.Proxy.ConnectTimeout,
			ResponseHeaderTimeout: cfg.Proxy.ResponseHeaderTimeout,
			IdleConnTimeout:       cfg.Proxy.IdleConnTimeout,
			MaxConnsPerHost:       cfg.Proxy.MaxConnsPerHost,
			TrustedProxies:        trusted,
		},
		Partner:    svc.partnerOptions(),
		Identity:   idp.identity,
		Admin:      idp.admin,
		Assertions: idp.assertions,
		Branding:   brand.options,
	})
	log.Info("livery serving", "version", versionString(), "console", consoleLn.Addr().String(),
		"api", apiLn.Addr().String(), "redis", svc.rdb.Mode, "store", cfg.Store.Driver, "tenants", len(cfg.Tenants))
	if ready != nil {
		ready(consoleLn.Addr(), apiLn.Addr(), svc)
	}
	errc := make(chan error, 1)
	go func() { errc <- gw.Serve(consoleLn, apiLn) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return gw.Shutdown(sctx)
}

// listen binds the console and API listeners of cfg.
func listen(cfg *config.Config) (*listeners, error) {
	c, err := net.Listen("tcp", cfg.Console.Addr)
	if err != nil {
		return nil, fmt.Errorf("console listener: %w", err)
	}
	a, err := net.Listen("tcp", cfg.API.Addr)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("api listener: %w", err)
	}
	return &listeners{console: c, api: a}, nil
}

// openStore opens the configured driver behind the store.timeout deadline
// (objstore.WithTimeout): every store the process uses comes from here.
func openStore(ctx context.Context, c config.Store) (objstore.Store, error) {
	var (
		s   objstore.Store
		err error
	)
	if c.Timeout <= 0 {
		c.Timeout = objstore.DefaultTimeout
	}
	switch c.Driver {
	case "s3":
		cctx, cancel := context.WithTimeout(ctx, c.Timeout)
		defer cancel()
		s, err = objstore.NewS3(cctx, objstore.S3Config{
			Endpoint: c.S3.Endpoint, Region: c.S3.Region, Bucket: c.S3.Bucket, UseSSL: c.S3.UseSSL,
			AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey, CreateBucket: c.S3.CreateBucket,
		})
	case "dir":
		s, err = objstore.NewDir(c.Dir.Path)
	default:
		return nil, fmt.Errorf("unknown store driver %q", c.Driver)
	}
	if err != nil {
		return nil, err
	}
	return objstore.WithTimeout(s, c.Timeout), nil
}

func parseCIDRs(cidrs []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, errors.New("proxy.trusted_proxies: " + err.Error())
		}
		out = append(out, n)
	}
	return out, nil
}

func listenerOptions(l config.Listener) gateway.ListenerOptions {
	return gateway.ListenerOptions{ReadTimeout: l.ReadTimeout, WriteTimeout: l.WriteTimeout,
		IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes, BodyLimit: l.BodyLimit,
		WriteBufferBytes: l.WriteBufferBytes}
}
