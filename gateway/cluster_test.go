package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/internal/testenv"
)

// The customer journey on a three-master Redis Cluster, two instances:
// sign-in (login state, session, its back-channel indexes), the session
// used on the other instance, and back-channel logout of the subject (two
// sessions, on different slots) ending it on both — with no CROSSSLOT
// error anywhere.
func TestSignInOnRedisCluster(t *testing.T) {
	cl := testenv.StartRedisCluster(t, 3)
	guard := &testenv.SlotGuard{}
	e := gatewaytest.NewIdentityEnvOn(t, cl.Client(t, guard))
	a, b := e.Start(t, nil), e.Start(t, nil)

	c1, c2 := gatewaytest.Browser(t), gatewaytest.Browser(t)
	for _, c := range []*http.Client{c1, c2} {
		if resp, body := a.SignIn(t, e, c, "user-1", "/"); resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in on A: %d %s", resp.StatusCode, body)
		}
	}
	// The same browser (cookies are per host, not per port) on B.
	if resp, _ := gatewaytest.Get(t, c1, b.ConsoleURL+"/"); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("session made on A used on B: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if err := e.IDP.SendBackchannelLogout(context.Background(), "livery", "user-1", ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for _, g := range []*gatewaytest.IdentityGateway{a, b} {
		for _, c := range []*http.Client{c1, c2} {
			for {
				req := gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/", nil, "Accept", "application/json")
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusUnauthorized {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after back-channel logout, %s still answers %d", g.ConsoleURL, resp.StatusCode)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	guard.Check(t)
}
