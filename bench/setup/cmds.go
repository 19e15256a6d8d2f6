package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// assertion returns the X-Livery-Assertion Livery currently sends for the
// session, read from the demo console's header echo, and when it expires.
func assertion(consoleURL, session string) (string, time.Time, error) {
	c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, body, err := do(c, request{method: "GET", url: consoleURL + "/headers?format=json",
		header: map[string]string{"Cookie": "livery_session=" + session, "Accept": "application/json"}})
	if err != nil {
		return "", time.Time{}, err
	}
	if err := expect(resp, body, 200, "header echo through Livery"); err != nil {
		return "", time.Time{}, err
	}
	var echo struct {
		Headers map[string][]string `json:"headers"`
	}
	if err := json.Unmarshal(body, &echo); err != nil {
		return "", time.Time{}, fmt.Errorf("header echo: %w", err)
	}
	v := echo.Headers["X-Livery-Assertion"]
	if len(v) == 0 || v[0] == "" {
		return "", time.Time{}, errors.New("the upstream received no X-Livery-Assertion")
	}
	parts := strings.Split(v[0], ".")
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if len(parts) == 3 {
		if p, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			_ = json.Unmarshal(p, &claims)
		}
	}
	return v[0], time.Unix(claims.Exp, 0), nil
}

func assertionCmd(args []string) error {
	fs := flag.NewFlagSet("assertion", flag.ExitOnError)
	console := fs.String("console", "", "Livery console base URL")
	session := fs.String("session", "", "livery_session cookie value")
	fs.Parse(args)
	if *console == "" || *session == "" {
		return errors.New("assertion needs -console and -session")
	}
	tok, exp, err := assertion(*console, *session)
	if err != nil {
		return err
	}
	fmt.Printf("ASSERTION=%s\nASSERTION_TTL=%d\n", shellQuote(tok), int(time.Until(exp).Seconds()))
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func getCmd(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	u := fs.String("url", "", "URL to fetch")
	status := fs.Int("status", 200, "expected status")
	wait := fs.Duration("wait", 0, "retry until the checks pass or this long has passed")
	nonce := fs.Bool("nonce", false, "replace "+NoncePlaceholder+" in -contains-file bytes with the response's CSP nonce")
	var headers, contains, files, absent multiFlag
	fs.Var(&headers, "H", "request header 'Name: value' (repeatable)")
	fs.Var(&contains, "contains", "the body must contain this (repeatable)")
	fs.Var(&files, "contains-file", "the body must contain this file's bytes (repeatable)")
	fs.Var(&absent, "absent", "the body must not contain this (repeatable)")
	fs.Parse(args)
	if *u == "" {
		return errors.New("get needs -url")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if len(b) > 0 {
			contains = append(contains, string(b))
		}
	}
	hdr := map[string]string{}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("bad header %q", h)
		}
		hdr[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(*wait)
	for {
		err := getOnce(c, *u, hdr, *status, contains, absent, *nonce)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getOnce(c *http.Client, u string, hdr map[string]string, status int, contains, absent []string, nonce bool) error {
	resp, body, err := do(c, request{method: "GET", url: u, header: hdr})
	if err != nil {
		return err
	}
	if resp.StatusCode != status {
		loc := ""
		if l := resp.Header.Get("Location"); l != "" {
			loc = " (Location: " + l + ")"
		}
		return fmt.Errorf("GET %s: HTTP %d, want %d%s", u, resp.StatusCode, status, loc)
	}
	n := cspNonce(strings.Join(resp.Header.Values("Content-Security-Policy"), ", "))
	for _, s := range contains {
		if nonce {
			s = strings.ReplaceAll(s, NoncePlaceholder, n)
		}
		if !bytes.Contains(body, []byte(s)) {
			return fmt.Errorf("GET %s: body (%d bytes) lacks %q", u, len(body), truncate([]byte(s), 80))
		}
	}
	for _, s := range absent {
		if bytes.Contains(body, []byte(s)) {
			return fmt.Errorf("GET %s: body contains %q", u, s)
		}
	}
	fmt.Printf("HTTP %d %d bytes\n", resp.StatusCode, len(body))
	return nil
}

func freeport() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}
