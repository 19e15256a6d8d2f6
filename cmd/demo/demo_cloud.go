package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/internal/config"
)

// demoCloud is the Demo Cloud's own account sign-in
// (identity.cloud_sign_in): the provider where people who already have a
// cloud account sign in, so a partner can invite them (docs/association.md).
// Its subject is the cloud account id.
type demoCloud struct {
	url    string // the provider's issuer
	secret string
	users  []demoCloudUser
	srv    *http.Server
}

// demoCloudUser is an existing account of the Demo Cloud.
type demoCloudUser struct {
	login, account, password string
	frozen                   bool
}

// The Demo Cloud's existing accounts (no partner yet): the demo prints
// their passwords. The frozen one shows an invitation refused.
var demoCloudAccounts = []struct {
	login, account string
	frozen         bool
}{
	{"lilei", "c10ad0000000000000000000000a0001", false},
	{"hanmeimei", "c10ad0000000000000000000000a0002", false},
	{"zhangwei", "c10ad0000000000000000000000a0003", true},
}

// existing is the accounts for the demo console's account API (their
// status answers the invitation checks).
func (c *demoCloud) existing() []console.Account {
	var out []console.Account
	for _, u := range c.users {
		out = append(out, console.Account{DomainID: u.account, DomainName: u.login, Frozen: u.frozen})
	}
	return out
}

func newDemoCloud(ln net.Listener) *demoCloud {
	c := &demoCloud{url: "http://" + loopback(ln.Addr()) + "/idp", secret: newToken()}
	for _, a := range demoCloudAccounts {
		c.users = append(c.users, demoCloudUser{login: a.login, account: a.account, password: newToken()[:12], frozen: a.frozen})
	}
	return c
}

// configure turns on cloud-account sign-in at this provider.
func (c *demoCloud) configure(cfg *config.Config) {
	cfg.Identity.CloudSignIn = &config.TenantOIDC{OIDC: config.OIDC{Issuer: c.url, ClientID: "livery-cloud", ClientSecret: c.secret}}
}

// start serves the provider on ln, for the console's base URLs.
func (c *demoCloud) start(ln net.Listener, consoleHosts []string, log *slog.Logger) error {
	var redirects, logouts []string
	for _, b := range consoleHosts {
		redirects = append(redirects, b+"/_livery/cloud/callback")
		logouts = append(logouts, b+"/_livery/logged-out")
	}
	users := make([]idp.User, 0, len(c.users))
	for _, u := range c.users {
		users = append(users, idp.User{Subject: u.account, Name: u.login, Password: u.password})
	}
	p, err := idp.New(idp.Options{Issuer: c.url, Logger: log, Users: users,
		Clients: []idp.Client{{ID: "livery-cloud", Secret: c.secret, RedirectURIs: redirects, PostLogoutRedirectURIs: logouts,
			BackchannelLogoutURI: consoleHosts[len(consoleHosts)-1] + "/_livery/cloud/backchannel-logout"}}})
	if err != nil {
		return fmt.Errorf("demo cloud sign-in: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/idp/", http.StripPrefix("/idp", p.Handler()))
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go serveDemo(c.srv, ln, log, "demo cloud sign-in")
	return nil
}

// print writes the Demo Cloud's accounts and the invitation journey.
func (c *demoCloud) print(w io.Writer, apiURL, tenant string) {
	fmt.Fprintf(w, "  Demo Cloud accounts (existing cloud customers, no partner yet), sign-in at %s:\n", c.url)
	for _, u := range c.users {
		note := ""
		if u.frozen {
			note = ", frozen: its invitation is refused"
		}
		fmt.Fprintf(w, "    user %-16s password %s   (cloud account %s%s)\n", u.login, u.password, u.account, note)
	}
	fmt.Fprintf(w, `    invite one (客户关联): sign in to %s/ui/ as partner-admin → Invitations → New invitation,
     open the link in another browser, "Sign in with your cloud account", sign the notice
     and accept; the customer then appears under Customers and in the partner API's
     ListSubCustomers of tenant %q (docs/association.md)

`, apiURL, tenant)
}

func (c *demoCloud) close() {
	if c.srv != nil {
		c.srv.Close()
	}
}
