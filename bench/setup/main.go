// Command setup prepares a running demo (go run ./cmd/demo) for bench/run.sh.
//
//	setup prepare -demo-output FILE -out DIR [-path /]
//	setup assertion -console URL -session ID
//	setup get -url URL [-H 'Name: value']... [-status 200] [-contains S]... [-contains-file F]... [-absent S]... [-wait 10s]
//	setup freeport
//	setup floor -listen ADDR -upstream HOST:PORT -capture DIR
//	setup staticpage -out FILE [-size 32768]
//	setup idp -listen ADDR -client-secret S -redirect URL
//	setup oauth2-login -start URL -base URL
//	setup idleconns -url URL -pid PID -n N [-H 'Name: value']...
//	setup websockets -url ws://... -pid PID -n N [-H 'Name: value']...
//
// prepare reads the URLs and staff passwords that the demo (cmd/demo)
// printed and then, over HTTP only (as a browser and the admin UI would):
//
//  1. signs up a customer on the demo partner platform and signs them in
//     through Livery's console (/_livery/login → IdP form → callback);
//  2. signs in as partner-admin on the API listener (/admin/login → IdP
//     form), uploads a PNG logo, PUTs a branding draft and submits it;
//  3. signs in as operator and approves the submission;
//  4. polls the console page through Livery until the new branding shows;
//  5. captures the exact chrome Livery injects (the head and body
//     fragments, by comparing Livery's page with the upstream's page for
//     the same identity) and writes nginx sub_filter snippets inserting
//     those bytes at the same places.
//
// It prints shell assignments (KEY='value') on stdout for run.sh to eval;
// progress goes to stderr.
//
// assertion prints a fresh X-Livery-Assertion for the session (read back
// from the demo console's header echo, through Livery) and the seconds it
// stays valid, so that direct and nginx requests can carry the same
// identity and the upstream does the same work in every row.
//
// get fetches one URL (no redirects followed, no compression asked for) and
// checks its status and body, retrying until -wait has passed; it prints
// "HTTP <status> <bytes> bytes" and exits non-zero when a check fails.
// freeport prints a free TCP port on 127.0.0.1.
// floor serves the benchmark's floor row (see floor.go). staticpage writes
// the static upstream's page; idp and oauth2-login serve the provider of
// the oauth2-proxy row and sign in through it (see oauth2.go); idleconns
// and websockets measure Livery's memory per held connection (conns.go).
package main

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "prepare":
		err = prepare(os.Args[2:])
	case "assertion":
		err = assertionCmd(os.Args[2:])
	case "get":
		err = getCmd(os.Args[2:])
	case "freeport":
		err = freeport()
	case "floor":
		err = floorCmd(os.Args[2:])
	case "staticpage":
		err = staticPageCmd(os.Args[2:])
	case "idp":
		err = idpCmd(os.Args[2:])
	case "oauth2-login":
		err = oauth2LoginCmd(os.Args[2:])
	case "idleconns":
		err = idleConnsCmd(os.Args[2:])
	case "websockets":
		err = webSocketsCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench setup:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: setup prepare -demo-output FILE -out DIR [-path /]
       setup assertion -console URL -session ID
       setup get -url URL [-H 'Name: value']... [-status N] [-contains S]... [-contains-file F]... [-absent S]... [-wait D]
       setup freeport
       setup floor -listen ADDR -upstream HOST:PORT -capture DIR
       setup staticpage -out FILE [-size 32768]
       setup idp -listen ADDR -client-secret S -redirect URL
       setup oauth2-login -start URL -base URL
       setup idleconns -url URL -pid PID -n N [-H 'Name: value']...
       setup websockets -url ws://... -pid PID -n N [-H 'Name: value']...`)
	os.Exit(2)
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "setup: "+format+"\n", args...) }

// demoURLs is what the demo (cmd/demo) printed.
type demoURLs struct {
	partner, console, upstream, api string
	operatorPass, adminPass         string
}

func find(out, re string) (string, error) {
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("demo output has no match for %s", re)
	}
	return m[1], nil
}

func parseDemo(out string) (d demoURLs, err error) {
	for _, f := range []struct {
		dst *string
		re  string
	}{
		{&d.partner, `Sign up on the demo partner platform:\s+(http://\S+?)/?\s`},
		{&d.console, `Console through Livery \(tenant "[^"]+"\):\s+(http://\S+?)/?\s`},
		{&d.upstream, `Demo console directly \(upstream\):\s+(http://\S+?)/?\s`},
		{&d.api, `(http://\S+?)/\.well-known/jwks\.json`},
		{&d.operatorPass, `operator:\s+user operator\s+password (\S+)`},
		{&d.adminPass, `partner admin:\s+user partner-admin\s+password (\S+)`},
	} {
		if *f.dst, err = find(out, f.re); err != nil {
			return d, err
		}
	}
	return d, nil
}

// newClient is a browser-like client with its own cookie jar. It does not
// ask for compression (as wrk does not).
func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 15 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
}

type request struct {
	method, url string
	body        []byte
	ctype       string
	header      map[string]string
}

func do(c *http.Client, r request) (*http.Response, []byte, error) {
	req, err := http.NewRequest(r.method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return nil, nil, err
	}
	if r.body == nil {
		req.Body, req.ContentLength = nil, 0
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", r.method, r.url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func expect(resp *http.Response, body []byte, want int, what string) error {
	if resp.StatusCode != want {
		return fmt.Errorf("%s: HTTP %d (want %d) at %s: %s", what, resp.StatusCode, want, resp.Request.URL, truncate(body, 600))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	hiddenRE   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// idpLogin follows startURL to the provider's login form and submits it;
// the client then follows the redirects back to the relying party.
func idpLogin(c *http.Client, startURL, user, pass string) (*http.Response, []byte, error) {
	resp, body, err := do(c, request{method: "GET", url: startURL, header: map[string]string{"Accept": "text/html"}})
	if err != nil {
		return nil, nil, err
	}
	if err := expect(resp, body, 200, "login form"); err != nil {
		return nil, nil, err
	}
	action := formAction.FindSubmatch(body)
	if action == nil {
		return nil, nil, fmt.Errorf("no login form at %s: %s", resp.Request.URL, truncate(body, 600))
	}
	form := url.Values{"username": {user}, "password": {pass}}
	for _, m := range hiddenRE.FindAllSubmatch(body, -1) {
		form.Set(html.UnescapeString(string(m[1])), html.UnescapeString(string(m[2])))
	}
	target, err := resp.Request.URL.Parse(html.UnescapeString(string(action[1])))
	if err != nil {
		return nil, nil, err
	}
	return do(c, request{method: "POST", url: target.String(), body: []byte(form.Encode()),
		ctype: "application/x-www-form-urlencoded", header: map[string]string{"Accept": "text/html"}})
}

func cookie(c *http.Client, base, name string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name || ck.Name == "__Host-"+name {
			return ck.Value
		}
	}
	return ""
}

func staffLogin(d demoURLs, user, pass string) (*http.Client, error) {
	c := newClient()
	resp, body, err := idpLogin(c, d.api+"/admin/login?rd=%2Fadmin%2Fwhoami", user, pass)
	if err != nil {
		return nil, fmt.Errorf("staff sign-in %s: %w", user, err)
	}
	if err := expect(resp, body, 200, "staff sign-in "+user); err != nil {
		return nil, err
	}
	if cookie(c, d.api, "livery_staff") == "" {
		return nil, fmt.Errorf("staff sign-in %s: no livery_staff cookie (landed at %s)", user, resp.Request.URL)
	}
	logf("signed in as %s: %s", user, bytes.TrimSpace(body))
	return c, nil
}

func logoPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 120, 32))
	for x := range 120 {
		for y := range 32 {
			c := color.RGBA{0x6A, 0x1B, 0x9A, 0xFF}
			if (x/8+y/8)%2 == 0 {
				c = color.RGBA{0xFF, 0xB3, 0x00, 0xFF}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// benchMarker is a custom menu entry of the benchmark's branding: its
// presence shows that the branding approved here is live (the demo may have
// seeded another one).
const benchMarker = "Bench support desk"
