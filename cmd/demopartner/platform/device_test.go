package platform_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestDeviceCookie: the platform gives each browser a random, long-lived,
// HttpOnly, SameSite=Lax first-party cookie and sends it, signed, as
// X-Client-Device-Id on every registration from that browser; another
// browser is another device, and a cookie it did not issue is replaced.
func TestDeviceCookie(t *testing.T) {
	srv, api := start(t)
	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar}
	}
	signupWith := func(c *http.Client, user string) {
		t.Helper()
		resp, err := c.PostForm(srv.URL+"/signup", url.Values{"username": {user}, "password": {"password-1"}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("signup %s: %d", user, resp.StatusCode)
		}
	}
	lastDevice := func() string {
		t.Helper()
		api.mu.Lock()
		defer api.mu.Unlock()
		h := api.headers[len(api.headers)-1]
		if !strings.Contains(h.Get("Authorization"), "x-client-device-id") {
			t.Fatalf("device header not signed: %s", h.Get("Authorization"))
		}
		return h.Get("X-Client-Device-Id")
	}

	alice := browser()
	resp, err := alice.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "dp_device" {
			cookie = c
		}
	}
	if cookie == nil || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(cookie.Value) || !cookie.HttpOnly ||
		cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge < 365*24*3600 || cookie.Path != "/" {
		t.Fatalf("device cookie %+v (Set-Cookie %q)", cookie, resp.Header.Values("Set-Cookie"))
	}
	signupWith(alice, "alice1")
	if d := lastDevice(); d != cookie.Value {
		t.Fatalf("device %q, want the cookie's %q", d, cookie.Value)
	}
	signupWith(alice, "alice2")
	if d := lastDevice(); d != cookie.Value {
		t.Fatalf("second signup: device %q, want %q", d, cookie.Value)
	}

	// A browser that signs up without visiting the page first gets a
	// device id too, and a different one.
	bob := browser()
	signupWith(bob, "bob1")
	bobDevice := lastDevice()
	if bobDevice == "" || bobDevice == cookie.Value {
		t.Fatalf("bob's device %q (alice's %q)", bobDevice, cookie.Value)
	}
	signupWith(bob, "bob2")
	if d := lastDevice(); d != bobDevice {
		t.Fatalf("bob's second device %q, want %q", d, bobDevice)
	}

	// A forged cookie is not passed on.
	mallory := browser()
	u, _ := url.Parse(srv.URL)
	mallory.Jar.SetCookies(u, []*http.Cookie{{Name: "dp_device", Value: "evil device\x7f", Path: "/"}})
	mallory.Jar.SetCookies(u, []*http.Cookie{{Name: "dp_device", Value: "DEV-A", Path: "/"}})
	signupWith(mallory, "mallory1")
	if d := lastDevice(); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(d) {
		t.Fatalf("forged cookie passed on as %q", d)
	}
}
