// Command democonsole runs a small stand-in for a cloud provider's web
// console, the upstream that Livery proxies in demos and end-to-end tests.
//
//	democonsole [-addr 127.0.0.1:9090] [-name "Demo Cloud"]
//	            [-assertion-jwks URL [-assertion-audience URL]]
//
// With -assertion-jwks the pages verify the gateway's X-Livery-Assertion
// against that key set (the gateway's API listener serves it at
// /.well-known/jwks.json) and show who is signed in; the audience is the
// console's own URL, http://<addr> unless -assertion-audience says
// otherwise. The account API (POST /_cloud/accounts) is enabled when the
// environment variable DEMOCONSOLE_ACCOUNT_TOKEN holds its bearer token
// (an environment variable, not a flag: flags show up in process lists).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/livery/livery/cmd/democonsole/console"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "democonsole:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:9090", "listen address (host:port)")
	name := flag.String("name", "Demo Cloud", "product name shown in the console")
	jwks := flag.String("assertion-jwks", "", "JWKS URL of the gateway's identity assertions (empty: not verified)")
	audience := flag.String("assertion-audience", "", "audience of the assertions (default http://<addr>)")
	flag.Parse()
	if *audience == "" {
		*audience = "http://" + *addr
	}
	if *jwks == "" {
		*audience = ""
	}

	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h := console.New(console.Options{Name: *name, Logger: logger,
		AssertionJWKSURL: *jwks, AssertionAudience: *audience, AccountToken: os.Getenv("DEMOCONSOLE_ACCOUNT_TOKEN")})
	srv := &http.Server{
		Addr:              *addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// No read or write timeout: /download, /upload, /slow, /events and
		// /ws are meant to run for a long time.
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("democonsole listening", "addr", ln.Addr().String(), "name", *name)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process the default way
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
