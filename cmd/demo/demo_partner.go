package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/cmd/demopartner/platform"
	"github.com/livery/livery/internal/app"
	"github.com/livery/livery/internal/config"
)

// Demo staff accounts at the demo partner's provider (demo only).
const (
	demoOperator     = "operator"
	demoPartnerAdmin = "partner-admin"
	demoManager      = "account-manager"
)

// demoPartner is the demo partner platform served by the demo. Its
// handler is installed once the gateway is up (it needs a partner key);
// until then it answers 503.
type demoPartner struct {
	partnerURL, consoleURL, apiURL string
	opsAddr                        string   // the operations listener (host:port)
	consoleHosts                   []string // base URLs the browser may use
	clientSecret, staffSecret      string
	operatorPassword               string
	adminPassword                  string
	managerPassword                string
	ak, sk                         string // the partner key, set by prepare
	h                              atomic.Pointer[http.Handler]
}

func newDemoPartner(lns *app.Listeners, partnerLn net.Listener) *demoPartner {
	cport := lns.Console.Addr().(*net.TCPAddr).Port
	d := &demoPartner{
		partnerURL:   "http://" + loopback(partnerLn.Addr()),
		consoleURL:   fmt.Sprintf("http://localhost:%d", cport),
		apiURL:       "http://" + loopback(lns.API.Addr()),
		opsAddr:      loopback(lns.Ops.Addr()),
		consoleHosts: []string{fmt.Sprintf("http://localhost:%d", cport), fmt.Sprintf("http://127.0.0.1:%d", cport)},
		clientSecret: newToken(), staffSecret: newToken(),
		operatorPassword: newToken()[:12], adminPassword: newToken()[:12], managerPassword: newToken()[:12],
	}
	return d
}

// loopback renders a bound address with 127.0.0.1 for wildcard hosts.
func loopback(a net.Addr) string {
	t := a.(*net.TCPAddr)
	if t.IP == nil || t.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", t.Port)
	}
	return t.String()
}

func (d *demoPartner) issuer() string { return d.partnerURL + "/idp" }

// configure points the demo tenant's customer sign-in and the staff
// sign-in at the demo partner's provider.
func (d *demoPartner) configure(cfg *config.Config) {
	cfg.Tenants[0].OIDC = &config.TenantOIDC{OIDC: config.OIDC{Issuer: d.issuer(), ClientID: "livery",
		ClientSecret: d.clientSecret}}
	cfg.Staff.OIDC = config.OIDC{Issuer: d.issuer(), ClientID: "livery-staff", ClientSecret: d.staffSecret}
	cfg.Staff.PublicURL = d.apiURL
}

// start builds the platform with the partner key and installs it.
func (d *demoPartner) start(ak, sk, xaccountType string, log *slog.Logger) error {
	var redirects, logouts []string
	for _, b := range d.consoleHosts {
		redirects = append(redirects, b+"/_livery/callback")
		logouts = append(logouts, b+"/_livery/logged-out")
	}
	h, err := platform.New(platform.Options{
		PublicURL: d.partnerURL, PartnerAPIURL: d.apiURL, AccessKey: ak, SecretKey: sk,
		XAccountType: xaccountType, ConsoleURL: d.consoleURL + "/", Logger: log,
		Clients: []idp.Client{
			{ID: "livery", Secret: d.clientSecret, RedirectURIs: redirects, PostLogoutRedirectURIs: logouts,
				BackchannelLogoutURI: d.consoleHosts[1] + "/_livery/backchannel-logout"},
			{ID: "livery-staff", Secret: d.staffSecret, RedirectURIs: []string{d.apiURL + "/admin/callback"}},
		},
		Users: []idp.User{
			{Subject: "staff-operator", Name: demoOperator, Password: d.operatorPassword,
				Claims: map[string]any{"roles": []string{"operator"}}},
			{Subject: "staff-partner-admin", Name: demoPartnerAdmin, Password: d.adminPassword,
				Claims: map[string]any{"roles": []string{"partner_admin"}, "tenant": xaccountType}},
			{Subject: "staff-account-manager", Name: demoManager, Password: d.managerPassword,
				Claims: map[string]any{"roles": []string{"customer_manager"}, "tenant": xaccountType}},
		},
	})
	if err != nil {
		return err
	}
	d.h.Store(&h)
	return nil
}

func (d *demoPartner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := d.h.Load()
	if h == nil {
		http.Error(w, "The demo partner platform is starting; try again in a moment.", http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, r)
}
