package gateway_test

import (
	"bytes"
	"encoding/json"
	"image/color"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/openapi"
)

// TestOpenAPIAdminExchanges drives the admin API (customers, managers,
// staff, keys, delegations, the branding workflow, reviews, overview)
// through a capturing transport and validates every request and response
// against admin.json.
func TestOpenAPIAdminExchanges(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	cap := &capture{}
	hc := &http.Client{Transport: cap, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	op, pa := e.Token(t, "op-1"), e.Token(t, "pa-acme")
	call := func(method, path, tok, body string, want int, headers ...string) map[string]any {
		t.Helper()
		var rd *bytes.Reader
		if body != "" {
			rd = bytes.NewReader([]byte(body))
		} else {
			rd = bytes.NewReader(nil)
		}
		req, err := http.NewRequest(method, e.APIURL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, m)
		}
		if et := resp.Header.Get("ETag"); et != "" && m != nil {
			m["_etag"] = et
		}
		return m
	}
	const T = "/admin/v1/tenants/acme"
	x := e.Cust["X"].DomainID

	// Customers and managers, staff (cm-acme has signed in via the token? list may be empty), keys.
	call("GET", T+"/customers?limit=2", pa, "", 200)
	call("GET", T+"/customers?offset=0&account_name=acme", pa, "", 200)
	call("GET", T+"/customers/"+x, pa, "", 200)
	call("GET", T+"/customers/"+x+"/managers", pa, "", 200)
	call("PUT", T+"/customers/"+x+"/managers", pa, `{"managers":["nobody-known"]}`, 422)
	call("GET", T+"/customers/nosuch", pa, "", 404)
	call("GET", T+"/staff", pa, "", 200)
	call("GET", T+"/keys", pa, "", 200)
	k := call("POST", T+"/keys", pa, "", 201)
	call("POST", T+"/keys/"+k["access_key"].(string)+"/revoke", pa, "", 200)
	call("GET", T+"/keys", pa, "", 200)

	// Delegations.
	call("GET", T+"/delegation-agreement", pa, "", 200)
	ag := call("GET", T+"/delegation-agreement", pa, "", 200)["agreement"].(map[string]any)
	call("POST", T+"/delegation-agreement", pa, `{"version":"`+ag["version"].(string)+`"}`, 200)
	g := call("POST", T+"/delegations", pa, `{"customer_id":"`+x+`","scopes":["resources","finance_read"],"duration_hours":24,"reason":"Set up the network"}`, 201)
	id := g["id"].(string)
	call("GET", T+"/delegations?state=requested&limit=5", pa, "", 200)
	call("GET", T+"/delegations/"+id, pa, "", 200)
	call("POST", T+"/delegations/"+id+"/revoke", pa, `{"reason":"no"}`, 409)
	call("POST", T+"/delegations/"+id+"/withdraw", pa, "", 200)
	call("POST", T+"/delegations", pa, `{"customer_id":"`+x+`","duration_hours":0}`, 400)

	// Branding: image, draft, submit, review, reject, submit, approve, versions, rollback, audit.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "logo.png")
	fw.Write(gatewaytest.PNGImage(t, color.RGBA{R: 200, A: 255}))
	mw.Close()
	img := call("POST", T+"/branding/images", pa, buf.String(), 201, "Content-Type", mw.FormDataContentType())
	asset, _ := json.Marshal(img["asset"])
	d := call("GET", T+"/branding/draft", pa, "", 200)
	doc := gatewaytest.BrandDoc(string(asset), "https://acme.example")
	hdr := []string{}
	if et, ok := d["_etag"].(string); ok {
		hdr = append(hdr, "If-Match", et)
	}
	call("PUT", T+"/branding/draft", pa, doc, 200, hdr...)
	call("PUT", T+"/branding/draft", pa, `{"brand":{}}`, 412, "If-Match", `"stale"`)
	s := call("POST", T+"/branding/submit", pa, "", 201)
	call("POST", T+"/branding/submit", pa, "", 409)
	call("GET", "/admin/v1/reviews?limit=5", op, "", 200)
	call("GET", "/admin/v1/reviews/acme", op, "", 200)
	call("GET", "/admin/v1/branding", op, "", 200)
	call("POST", T+"/branding/preview?source=pending", pa, "", 201)
	call("GET", T+"/branding/preview", pa, "", 303)
	call("POST", "/admin/v1/reviews/acme/reject", op, `{"submission_id":"`+s["id"].(string)+`","reason":"try again"}`, 200)
	s = call("POST", T+"/branding/submit", pa, "", 201)
	call("POST", T+"/branding/withdraw", pa, "", 200)
	s = call("POST", T+"/branding/submit", pa, "", 201)
	call("POST", "/admin/v1/reviews/acme/approve", pa, `{"submission_id":"`+s["id"].(string)+`"}`, 403)
	call("POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+s["id"].(string)+`","note":"ok"}`, 200)
	call("GET", T+"/branding/submissions?limit=2", pa, "", 200)
	call("GET", T+"/branding/versions", pa, "", 200)
	call("POST", T+"/branding/rollback", op, `{"version":1,"reason":"again"}`, 409)
	call("GET", T+"/branding/audit?action=branding.approve", pa, "", 200)
	call("GET", "/admin/v1/branding", op, "", 200)
	call("GET", "/admin/v1/tenants/nosuch/customers", op, "", 404)
	call("GET", T+"/customers", "not-a-token", "", 401)

	// Tenant records, the sign-in provider and its test, the summary.
	rec := `{"id":"initech","name":{"zh":"英泰克","en":"Initech"},"hosts":["console.initech.test"],"upstream":"https://cloud.example/",` +
		`"provisioner":{"kind":"http","url":"https://prov.example/","token":"t"},"risk":{"per_device":"3/24h"},"association":{"type":"2"},` +
		`"sign_in":{"issuer":"https://idp.example","client_id":"c","client_secret":"s","scopes":["openid"]}}`
	call("POST", "/admin/v1/tenants?skip_discovery=true", op, rec, 201)
	call("POST", "/admin/v1/tenants?skip_discovery=true", op, rec, 409)
	call("POST", "/admin/v1/tenants", op, `{"id":"x","name":{"zh":"","en":""},"hosts":[],"upstream":"ftp://x"}`, 400)
	call("GET", "/admin/v1/tenants", op, "", 200)
	call("GET", "/admin/v1/tenants/initech", op, "", 200)
	call("PUT", "/admin/v1/tenants/initech", op, rec, 428)
	call("PUT", "/admin/v1/tenants/initech", op, strings.Replace(rec, "Initech", "Initech Corp", 1), 200, "If-Match", `"1"`)
	call("PUT", "/admin/v1/tenants/initech", op, rec, 412, "If-Match", `"1"`)
	call("POST", "/admin/v1/tenants/initech/suspend", op, `{"reason":"contract ended"}`, 200)
	call("POST", "/admin/v1/tenants/initech/resume", op, "", 200)
	call("PUT", "/admin/v1/tenants/initech/sign-in", op, `{"issuer":"`+e.IDP.Issuer()+`","client_id":"c"}`, 200, "If-Match", `"4"`)
	call("POST", "/admin/v1/tenants/initech/sign-in/test", op, `{"issuer":""}`, 200)
	call("POST", "/admin/v1/tenants/initech/sign-in/test", op, `{"issuer":"http://127.0.0.1:1"}`, 200)
	call("GET", T+"/partner-api/summary?days=3", pa, "", 200)
	call("GET", T+"/partner-api/summary?days=40", pa, "", 400)

	if n := cap.validate(t, openapi.Admin()); n < 40 {
		t.Fatalf("only %d exchanges captured", n)
	}
}
