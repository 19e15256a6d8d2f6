// Command demopartner runs the demo partner sales platform: a sign-up page
// that creates cloud accounts through Livery's partner API and an embedded
// OpenID Connect provider (under /idp) for the console sign-in. Demo only.
//
// Secrets come from the environment, never from flags: DEMOPARTNER_SK (partner
// secret key) and DEMOPARTNER_CLIENT_SECRET (the OIDC client secret Livery
// uses; empty registers a public client).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/cmd/demopartner/platform"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demopartner:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:9091", "listen address")
	publicURL := flag.String("public-url", "http://127.0.0.1:9091", "external base URL (the IdP issuer is <public-url>/idp)")
	apiURL := flag.String("partner-api", "http://127.0.0.1:8081", "Livery partner API base URL")
	ak := flag.String("ak", "", "partner access key (the secret key comes from $DEMOPARTNER_SK)")
	xtype := flag.String("xaccount-type", "", "platform id assigned to the partner (xaccount_type)")
	consoleURL := flag.String("console-url", "http://127.0.0.1:8080/", "partner console URL on Livery")
	clientID := flag.String("client-id", "livery", "OIDC client id Livery uses")
	redirects := flag.String("redirect-uris", "http://127.0.0.1:8080/_livery/callback", "comma-separated redirect URIs of the client")
	postLogout := flag.String("post-logout-uris", "http://127.0.0.1:8080/_livery/logged-out", "comma-separated post-logout redirect URIs")
	backchannel := flag.String("backchannel-logout-uri", "", "client's back-channel logout URI (optional)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h, err := platform.New(platform.Options{
		PublicURL: *publicURL, PartnerAPIURL: *apiURL, AccessKey: *ak, SecretKey: os.Getenv("DEMOPARTNER_SK"),
		XAccountType: *xtype, ConsoleURL: *consoleURL, Logger: log,
		Clients: []idp.Client{{ID: *clientID, Secret: os.Getenv("DEMOPARTNER_CLIENT_SECRET"),
			RedirectURIs: split(*redirects), PostLogoutRedirectURIs: split(*postLogout), BackchannelLogoutURI: *backchannel}},
	})
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("demopartner listening", "addr", *listen, "issuer", strings.TrimSuffix(*publicURL, "/")+"/idp")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func split(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
