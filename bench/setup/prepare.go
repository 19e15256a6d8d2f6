package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func prepare(args []string) error {
	fs := flag.NewFlagSet("prepare", flag.ExitOnError)
	demoOut := fs.String("demo-output", "", "file holding what the demo (cmd/demo) printed")
	outDir := fs.String("out", "", "directory for the captured fragments and nginx snippets")
	path := fs.String("path", "/", "console page to benchmark")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the approved branding to go live")
	fs.Parse(args)
	if *demoOut == "" || *outDir == "" {
		return errors.New("prepare needs -demo-output and -out")
	}
	raw, err := os.ReadFile(*demoOut)
	if err != nil {
		return err
	}
	d, err := parseDemo(string(raw))
	if err != nil {
		return err
	}
	tenant := "demo"
	if t, err := find(string(raw), `Console through Livery \(tenant "([^"]+)"\)`); err == nil {
		tenant = t
	}
	// The benchmark requests the console by 127.0.0.1 (a host of the demo
	// tenant), as wrk will.
	consoleURL := strings.Replace(d.console, "://localhost:", "://127.0.0.1:", 1)

	// 1. Customer: sign up, then sign in through Livery.
	user := fmt.Sprintf("bench%d", time.Now().UnixNano()%1e9)
	pub := newClient()
	resp, body, err := do(pub, request{method: "POST", url: d.partner + "/signup", ctype: "application/x-www-form-urlencoded",
		body: []byte(url.Values{"username": {user}, "password": {"bench-password-1"}, "account_name": {user + "_corp"}}.Encode())})
	if err != nil {
		return err
	}
	if err := expect(resp, body, http.StatusCreated, "partner sign-up"); err != nil {
		return err
	}
	customer := newClient()
	resp, body, err = idpLogin(customer, consoleURL+"/_livery/login?rd="+url.QueryEscape(*path), user, "bench-password-1")
	if err != nil {
		return fmt.Errorf("customer sign-in: %w", err)
	}
	if err := expect(resp, body, 200, "customer sign-in"); err != nil {
		return err
	}
	session := cookie(customer, consoleURL, "livery_session")
	if session == "" {
		return fmt.Errorf("customer sign-in: no livery_session cookie (landed at %s)", resp.Request.URL)
	}
	logf("customer %s signed in through Livery (landed at %s)", user, resp.Request.URL)

	// 2. Partner admin: logo, draft, submit.
	admin, err := staffLogin(d, "partner-admin", d.adminPass)
	if err != nil {
		return err
	}
	base := d.api + "/admin/v1/tenants/" + tenant + "/branding"
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "logo.png")
	fw.Write(logoPNG())
	mw.Close()
	resp, body, err = do(admin, request{method: "POST", url: base + "/images", body: mp.Bytes(), ctype: mw.FormDataContentType()})
	if err != nil {
		return err
	}
	if err := expect(resp, body, http.StatusCreated, "logo upload"); err != nil {
		return err
	}
	var img struct {
		Asset json.RawMessage `json:"asset"`
		URL   string          `json:"url"`
	}
	if err := json.Unmarshal(body, &img); err != nil || len(img.Asset) == 0 {
		return fmt.Errorf("logo upload: unexpected answer %s", truncate(body, 300))
	}
	logf("logo uploaded: %s", img.URL)

	// An existing draft (the demo may have seeded one) is replaced with
	// If-Match; without a draft the first PUT carries no If-Match.
	resp, body, err = do(admin, request{method: "GET", url: base + "/draft"})
	if err != nil {
		return err
	}
	if err := expect(resp, body, 200, "get draft"); err != nil {
		return err
	}
	etag := resp.Header.Get("ETag")
	doc := fmt.Sprintf(`{
  "brand": {"logo_zh": %[1]s, "logo_en": %[1]s, "link_zh": "https://www.example.com/zh/", "link_en": "https://www.example.com/en/", "nav_color": "#6A1B9A"},
  "promotions": [{"name_zh": "新用户特惠", "name_en": "New customer offers", "link": "https://www.example.com/offers"},
                 {"name_zh": "企业上云", "name_en": "Move to cloud", "link": "https://www.example.com/migrate"}],
  "menus": {"show_info": true, "show_resources": true, "show_user": true, "show_custom": true,
            "custom": [{"name_zh": "伙伴支持", "name_en": %[2]q, "link": "https://www.example.com/support"},
                       {"name_zh": "服务条款", "name_en": "Terms", "link": "https://www.example.com/terms"}]},
  "ops": {"show_announcements": true, "show_activities": true, "show_recommended": true, "announcements": []}
}`, img.Asset, benchMarker)
	hdr := map[string]string{}
	if etag != "" {
		hdr["If-Match"] = etag
	}
	resp, body, err = do(admin, request{method: "PUT", url: base + "/draft", body: []byte(doc), ctype: "application/json", header: hdr})
	if err != nil {
		return err
	}
	if err := expect(resp, body, 200, "put draft"); err != nil {
		return err
	}
	resp, body, err = do(admin, request{method: "POST", url: base + "/submit"})
	if err != nil {
		return err
	}
	if err := expect(resp, body, http.StatusCreated, "submit"); err != nil {
		return err
	}
	var sub struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &sub); err != nil || sub.ID == "" {
		return fmt.Errorf("submit: no submission id in %s", truncate(body, 300))
	}
	logf("draft submitted: %s", sub.ID)

	// 3. Operator: approve.
	op, err := staffLogin(d, "operator", d.operatorPass)
	if err != nil {
		return err
	}
	resp, body, err = do(op, request{method: "POST", url: d.api + "/admin/v1/reviews/" + tenant + "/approve",
		body: []byte(fmt.Sprintf(`{"submission_id": %q, "note": "bench"}`, sub.ID)), ctype: "application/json"})
	if err != nil {
		return err
	}
	if err := expect(resp, body, 200, "approve"); err != nil {
		return err
	}
	logf("approved: %s", truncate(bytes.TrimSpace(body), 120))

	// 4. Poll the page through Livery until the approved branding shows.
	pageURL := consoleURL + *path
	sessHdr := map[string]string{"Cookie": "livery_session=" + session}
	plain := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var branded []byte
	for deadline := time.Now().Add(*wait); ; {
		resp, body, err = do(plain, request{method: "GET", url: pageURL, header: sessHdr})
		if err != nil {
			return err
		}
		if resp.StatusCode == 200 && bytes.Contains(body, []byte(`id="livery-chrome"`)) && bytes.Contains(body, []byte(benchMarker)) {
			branded = body
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("page %s not branded after %s: HTTP %d %s", pageURL, *wait, resp.StatusCode, truncate(body, 400))
		}
		time.Sleep(200 * time.Millisecond)
	}
	logf("console page %s is branded (%d bytes)", pageURL, len(branded))

	// 5. The upstream's page for the same identity, and the fragments.
	tok, _, err := assertion(consoleURL, session)
	if err != nil {
		return err
	}
	up := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	upResp, upBody, err := do(up, request{method: "GET", url: d.upstream + *path, header: map[string]string{"X-Livery-Assertion": tok}})
	if err != nil {
		return err
	}
	if err := expect(upResp, upBody, 200, "upstream page"); err != nil {
		return err
	}
	// Livery's page again, right now (same assertion era as upBody).
	resp, branded, err = do(plain, request{method: "GET", url: pageURL, header: sessHdr})
	if err != nil {
		return err
	}
	if err := expect(resp, branded, 200, "branded page"); err != nil {
		return err
	}
	liveryCSP := strings.Join(resp.Header.Values("Content-Security-Policy"), ", ")
	upCSP := strings.Join(upResp.Header.Values("Content-Security-Policy"), ", ")
	// A page under a nonce-based CSP has a fresh nonce per response, and
	// Livery puts the page's nonce on its chrome: compare the two pages
	// with the upstream's nonce replaced by Livery's, and keep the nonce
	// in the fragments as a placeholder (nginx takes it from the upstream's
	// Content-Security-Policy header).
	nonce := cspNonce(liveryCSP)
	upSame := upBody
	if un := cspNonce(upCSP); un != "" && nonce != "" {
		upSame = bytes.ReplaceAll(upBody, []byte(un), []byte(nonce))
	}
	headTag, bodyTag, head, bodyFrag, exact := fragments(upSame, branded)
	if !exact {
		logf("WARNING: Livery's page is not the upstream's page plus two insertions; nginx inserts a filler of the same size instead")
	}
	if nonce != "" {
		head = bytes.ReplaceAll(head, []byte(nonce), []byte(NoncePlaceholder))
		bodyFrag = bytes.ReplaceAll(bodyFrag, []byte(nonce), []byte(NoncePlaceholder))
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{"livery_page.html": branded, "upstream_page.html": upBody,
		"chrome_head.html": head, "chrome_body.html": bodyFrag,
		"subfilter_http.conf": nil, "subfilter_location.conf": nil}
	files["subfilter_http.conf"], files["subfilter_location.conf"] = nginxSnippets(headTag, bodyTag, head, bodyFrag)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*outDir, name), b, 0o644); err != nil {
			return err
		}
	}
	logf("chrome captured: head %d bytes after %q, body %d bytes after %q (exact=%v, CSP nonce in chrome: %v)",
		len(head), headTag, len(bodyFrag), bodyTag, exact, nonce != "" && bytes.Contains(append(head, bodyFrag...), []byte(NoncePlaceholder)))
	if upCSP != liveryCSP && nonce == "" {
		logf("note: Livery changed the Content-Security-Policy header (nginx leaves it as is): %q -> %q", upCSP, liveryCSP)
	}

	for _, kv := range [][2]string{
		{"CONSOLE_URL", consoleURL}, {"UPSTREAM_URL", d.upstream}, {"API_URL", d.api}, {"PARTNER_URL", d.partner},
		{"SESSION", session}, {"CUSTOMER", user},
		{"LIVERY_PAGE_BYTES", strconv.Itoa(len(branded))}, {"UPSTREAM_PAGE_BYTES", strconv.Itoa(len(upBody))},
		{"CHROME_HEAD_BYTES", strconv.Itoa(len(head))}, {"CHROME_BODY_BYTES", strconv.Itoa(len(bodyFrag))},
		{"CHROME_EXACT", strconv.FormatBool(exact)},
	} {
		fmt.Printf("%s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
