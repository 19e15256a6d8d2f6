// Package platform is the demo partner sales platform: its users sign up on
// a page, the platform creates their cloud account through Livery's partner
// API (official Huawei Cloud Go SDK, AK/SK signing) and signs them in to the
// console through its embedded OpenID Connect provider (mounted at /idp):
// sign-up opens the user's session there (idp.IssueSignupTicket), so the
// first jump to the console needs no second password.
// Demo only: users live in memory. CSRF protection is out of scope.
package platform

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/cmd/demopartner/idp"
)

// Options configure the platform.
type Options struct {
	PublicURL     string // external base URL of the platform; the IdP issuer is PublicURL+"/idp"
	PartnerAPIURL string // Livery API listener, e.g. "http://127.0.0.1:8081"
	AccessKey     string
	SecretKey     string
	XAccountType  string // platform id assigned to the partner
	ConsoleURL    string // partner's console host on Livery
	Clients       []idp.Client
	// Users are extra IdP accounts (e.g. partner staff with roles claims).
	Users  []idp.User
	Logger *slog.Logger
}

type platform struct {
	o     Options
	log   *slog.Logger
	api   *bss.BssClient
	idp   *idp.Provider
	mu    sync.Mutex
	names map[string]bool // usernames taken or being registered
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,64}$`)

// New validates o and returns the platform's HTTP handler. Routes: GET / (sign-up
// page), POST /signup, and the OIDC provider under /idp/.
func New(o Options) (http.Handler, error) {
	var problems []string
	o.PublicURL = strings.TrimSuffix(o.PublicURL, "/")
	for _, f := range [][2]string{{"PublicURL", o.PublicURL}, {"PartnerAPIURL", o.PartnerAPIURL}, {"ConsoleURL", o.ConsoleURL}} {
		if u, err := url.Parse(f[1]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, f[0]+" must be an absolute http(s) URL")
		}
	}
	for _, f := range [][2]string{{"AccessKey", o.AccessKey}, {"SecretKey", o.SecretKey}, {"XAccountType", o.XAccountType}} {
		if f[1] == "" {
			problems = append(problems, f[0]+" is required")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("platform: %s", strings.Join(problems, "; "))
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cred, err := global.NewCredentialsBuilder().WithAk(o.AccessKey).WithSk(o.SecretKey).SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("platform: credentials: %w", err)
	}
	hc, err := bss.BssClientBuilder().WithEndpoints([]string{o.PartnerAPIURL}).WithCredential(cred).SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("platform: partner API client: %w", err)
	}
	provider, err := idp.New(idp.Options{Issuer: o.PublicURL + "/idp", Clients: o.Clients, Users: o.Users, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	p := &platform{o: o, log: log, api: bss.NewBssClient(hc), idp: provider, names: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.home)
	mux.HandleFunc("POST /signup", p.signup)
	mux.Handle("/idp/", http.StripPrefix("/idp", provider.Handler()))
	return mux, nil
}

func (p *platform) home(w http.ResponseWriter, r *http.Request) {
	p.deviceID(w, r)
	p.render(w, http.StatusOK, pageData{ConsoleURL: p.o.ConsoleURL})
}

// The platform's first-party device cookie: a random id, HttpOnly,
// SameSite=Lax, kept for 400 days (the longest browsers keep a cookie).
// It is sent to the partner API as X-Client-Device-Id (signed), so that
// Livery's per-device registration limit counts this browser.
const (
	deviceCookie = "dp_device"
	deviceMaxAge = 400 * 24 * 60 * 60
)

var deviceRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// deviceID returns the browser's device id, issuing the cookie when the
// request has none (or one this platform did not issue).
func (p *platform) deviceID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(deviceCookie); err == nil && deviceRE.MatchString(c.Value) {
		return c.Value
	}
	id := randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: id, Path: "/", MaxAge: deviceMaxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(p.o.PublicURL, "https://")})
	return id
}

func (p *platform) signup(w http.ResponseWriter, r *http.Request) {
	d := pageData{ConsoleURL: p.o.ConsoleURL, Username: strings.TrimSpace(r.PostFormValue("username")),
		AccountName: strings.TrimSpace(r.PostFormValue("account_name"))}
	password := r.PostFormValue("password")
	switch {
	case !usernameRE.MatchString(d.Username):
		d.Problem = "Username must be 3–64 letters, digits, '.', '_' or '-'."
	case len(password) < 8 || len(password) > 64:
		d.Problem = "Password must be 8–64 characters."
	case !p.reserve(d.Username):
		d.Problem = "This username is already taken."
	}
	if d.Problem != "" {
		p.render(w, http.StatusBadRequest, d)
		return
	}
	device := p.deviceID(w, r)
	xaccountID := "dp" + randomHex(8)
	body := &model.CreateCustomerV2Req{XaccountId: xaccountID, XaccountType: p.o.XAccountType}
	if d.AccountName != "" {
		body.DomainName = &d.AccountName
	}
	// Extra headers are added before the SDK signs the request.
	call := p.api.CreateSubCustomerInvoker(&model.CreateSubCustomerRequest{Body: body})
	call.AddHeaders(map[string]string{"X-Client-Device-Id": device})
	resp, err := call.Invoke()
	if err != nil {
		p.release(d.Username)
		status := http.StatusBadGateway
		var se *sdkerr.ServiceResponseError
		if errors.As(err, &se) {
			d.APIError = &apiError{Status: se.StatusCode, Code: se.ErrorCode, Message: se.ErrorMessage, RequestID: se.RequestId}
			if se.StatusCode >= 400 && se.StatusCode < 500 {
				status = http.StatusBadRequest
			}
		} else {
			d.APIError = &apiError{Message: "The partner API could not be reached. Please try again later."}
		}
		p.log.Warn("platform: create customer failed", "xaccount_id", xaccountID, "err", err)
		p.render(w, status, d)
		return
	}
	acct := &account{XAccountID: xaccountID, DomainID: deref(resp.DomainId), DomainName: deref(resp.DomainName)}
	err = p.idp.AddUser(idp.User{Subject: xaccountID, Name: d.Username, Password: password, Claims: map[string]any{
		"xaccount_id": xaccountID, "xaccount_type": p.o.XAccountType,
		"domain_id": acct.DomainID, "domain_name": acct.DomainName,
	}})
	if err != nil { // cannot happen: xaccountID is fresh
		p.log.Error("platform: add IdP user", "err", err)
		p.render(w, http.StatusInternalServerError, pageData{ConsoleURL: p.o.ConsoleURL, Problem: "Internal error."})
		return
	}
	p.log.Info("platform: customer created", "username", d.Username, "xaccount_id", xaccountID, "domain_id", acct.DomainID)
	d.Account = acct
	// The new customer's IdP session opens with "Go to console" (a form
	// posting this one-time ticket to the IdP, which then sends the
	// browser to the console): single sign-on, no second password prompt.
	if ticket, err := p.idp.IssueSignupTicket(w, xaccountID, p.o.ConsoleURL); err == nil {
		d.SignupTicket, d.SignupSessionURL = ticket, p.o.PublicURL+"/idp/signup-session"
	} else {
		p.log.Error("platform: sign-up ticket", "err", err)
	}
	p.render(w, http.StatusCreated, d)
}

func (p *platform) reserve(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.names[strings.ToLower(name)] {
		return false
	}
	p.names[strings.ToLower(name)] = true
	return true
}

func (p *platform) release(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.names, strings.ToLower(name))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
