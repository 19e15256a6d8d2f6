package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/livery/livery/cmd/demopartner/idp"
)

// The peer stack of bench/run.sh row (e): nginx auth_request → oauth2-proxy
// (OpenID Connect, cookie sessions) + sub_filter. Its provider is the demo
// partner's (cmd/demopartner/idp), run by "setup idp"; its session cookie
// comes from a real sign-in ("setup oauth2-login"): the browser flow a user
// goes through, /oauth2/start → the provider's form → /oauth2/callback.

// The bench user and client of the oauth2-proxy row.
const (
	oauth2User   = "bench-o2p"
	oauth2Pass   = "bench-o2p-password-1"
	oauth2Client = "oauth2-proxy"
)

// idpCmd serves an OpenID Connect provider with one user and one
// confidential client (oauth2-proxy) until killed.
//
//	setup idp -listen 127.0.0.1:PORT -client-secret S -redirect URL
func idpCmd(args []string) error {
	fs := flag.NewFlagSet("idp", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to serve on (the issuer is http://ADDR)")
	secret := fs.String("client-secret", "", "the client secret of client "+oauth2Client)
	redirect := fs.String("redirect", "", "the client's redirect URI (oauth2-proxy's /oauth2/callback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *listen == "" || *secret == "" || *redirect == "" {
		return errors.New("idp: -listen, -client-secret and -redirect are required")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	p, err := idp.New(idp.Options{
		Issuer: "http://" + ln.Addr().String(),
		Users: []idp.User{{Subject: oauth2User, Name: "Bench User", Email: oauth2User + "@example.com",
			Password: oauth2Pass, Claims: map[string]any{"email_verified": true}}},
		Clients: []idp.Client{{ID: oauth2Client, Secret: *secret, RedirectURIs: []string{*redirect}}},
		// The session must outlive the run: oauth2-proxy ends a session at
		// the ID token's expiry (no refresh is configured).
		IDTokenTTL: 24 * time.Hour,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench idp on %s\n", p.Issuer())
	return (&http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}

// oauth2LoginCmd signs the bench user in through oauth2-proxy behind nginx
// (GET START → the provider's login form → POST → callback → the page) and
// prints O2P_COOKIE='name=value; ...', the Cookie header value of the
// session, for wrk. The last response must be the page (HTTP 200).
//
//	setup oauth2-login -start http://127.0.0.1:PORT/oauth2/start?rd=/ -base http://127.0.0.1:PORT
func oauth2LoginCmd(args []string) error {
	fs := flag.NewFlagSet("oauth2-login", flag.ContinueOnError)
	start := fs.String("start", "", "oauth2-proxy's sign-in start URL (through nginx)")
	base := fs.String("base", "", "the site's base URL (whose cookies are printed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *start == "" || *base == "" {
		return errors.New("oauth2-login: -start and -base are required")
	}
	c := newClient()
	resp, body, err := idpLogin(c, *start, oauth2User, oauth2Pass)
	if err != nil {
		return fmt.Errorf("oauth2-proxy sign-in: %w", err)
	}
	if err := expect(resp, body, 200, "oauth2-proxy sign-in"); err != nil {
		return err
	}
	u, _ := http.NewRequest("GET", *base, nil)
	var parts []string
	for _, ck := range c.Jar.Cookies(u.URL) {
		if strings.HasPrefix(ck.Name, "_oauth2_proxy") && !strings.HasSuffix(ck.Name, "_csrf") {
			parts = append(parts, ck.Name+"="+ck.Value)
		}
	}
	if len(parts) == 0 {
		return fmt.Errorf("oauth2-proxy sign-in: no _oauth2_proxy cookie (landed at %s)", resp.Request.URL)
	}
	logf("signed in through nginx + oauth2-proxy as %s (landed at %s, %d bytes)", oauth2User, resp.Request.URL, len(body))
	cookie := strings.Join(parts, "; ")
	fmt.Printf("O2P_COOKIE=%s\nO2P_COOKIE_BYTES=%d\n", shellQuote(cookie), len(cookie))
	return nil
}
