package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
)

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`
consle: {}
tenants:
  - {id: a1, name: {zh: 甲, en: A}, hosts: [a.example], upstream: "http://u"}
  - {id: b1, name: {zh: 乙, en: B}, hosts: [A.example]}
  - {id: c1, name: {zh: 丙, en: C}, hosts: [c.example], upstream: "ftp://x"}
`), 0o600)
	malformed := filepath.Join(dir, "malformed.yaml")
	os.WriteFile(malformed, []byte("tenants: [\n"), 0o600)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"embedded defaults", []string{"check-config"}, 0, []string{"configuration ok: 1 tenant(s), store dir, redis embedded"}},
		{"every problem listed", []string{"check-config", "-config", bad}, 2, []string{
			"field consle not found", "tenants[1].upstream: is required", `tenants[1].hosts[0]: host "a.example" is already used by tenants[0]`,
			"tenants[2].upstream: must be an absolute http(s) URL"}},
		{"malformed yaml", []string{"check-config", "-config", malformed}, 2, []string{"yaml:"}},
		{"missing file", []string{"check-config", "-config", filepath.Join(dir, "nope.yaml")}, 2, []string{"nope.yaml"}},
		{"serve refuses bad config", []string{"serve", "-config", bad}, 2, []string{"tenants[1].upstream"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"version", []string{"version"}, 0, []string{"livery "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			all := out.String() + errb.String()
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.wantCode, all)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoServesConsoleThroughGateway runs `livery demo` in process and
// follows the URLs it prints.
func TestDemoServesConsoleThroughGateway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	data := t.TempDir()
	go func() {
		done <- run(ctx, []string{"demo", "-console", "127.0.0.1:0", "-api", "127.0.0.1:0", "-data", data}, &out, &errb)
	}()
	urlRe := regexp.MustCompile(`Console through Livery \(tenant "demo"\):\s+(http://localhost:\d+/)`)
	apiRe := regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/healthz`)
	var consoleURL, apiURL string
	for deadline := time.Now().Add(10 * time.Second); ; {
		if m := urlRe.FindStringSubmatch(out.String()); m != nil {
			consoleURL = m[1]
			apiURL = apiRe.FindStringSubmatch(out.String())[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no URL:\n%s\n%s", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(consoleURL); code != 200 || !strings.Contains(body, "<!DOCTYPE html>") {
		t.Fatalf("console: %d %s", code, body)
	}
	if code, body := get(consoleURL + "headers?format=json"); code != 200 || !strings.Contains(body, "X-Forwarded-Host") {
		t.Fatalf("headers: %d %s", code, body)
	}
	if code, body := get(apiURL + "/readyz"); code != 200 || !strings.Contains(body, `"redis":"ok"`) || !strings.Contains(body, `"store":"ok"`) {
		t.Fatalf("readyz: %d %s", code, body)
	}
	// The printed partner key works with the official SDK, and accounts are
	// created through the demo console's account API.
	akRe := regexp.MustCompile(`access key \(AK\):\s+(\S+)`)
	skRe := regexp.MustCompile(`secret key \(SK\):\s+(\S+)`)
	ak, sk := akRe.FindStringSubmatch(out.String()), skRe.FindStringSubmatch(out.String())
	if ak == nil || sk == nil {
		t.Fatalf("demo printed no partner key:\n%s", out.String())
	}
	cred := global.NewCredentialsBuilder().WithAk(ak[1]).WithSk(sk[1]).Build()
	hc, err := bss.BssClientBuilder().WithEndpoints([]string{apiURL}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	name := "demo_customer"
	created, err := bss.NewBssClient(hc).CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
		XaccountId: "demo-user-1", XaccountType: "demo", DomainName: &name}})
	if err != nil || *created.DomainName != name || len(*created.DomainId) != 32 {
		t.Fatalf("create customer through the demo: %+v %v\n%s", created, err, errb.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("demo exited %d: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop")
	}
}
