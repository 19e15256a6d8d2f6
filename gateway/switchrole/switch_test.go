package switchrole

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/web"
	"github.com/prometheus/client_golang/prometheus"
)

// TestSwitchJourney: switch in, an allowed read and write reach the
// upstream and are in the activity log, an out-of-scope request is a 403
// page naming the scope (and logged as denied), a marketplace order names
// no scope, switch back returns to the partner UI and ends the session.
func TestSwitchJourney(t *testing.T) {
	e := newEnv(t)
	in := e.instance(t)
	g := e.grant(t, in, delegation.ScopeResources)
	staff := in.staffSession(t, partnerAdmin)
	cookie := in.switchIn(t, g, staff.ID)

	if a := do(t, in.console, "GET", "/resources", cookie); a.status != 200 || a.body != "upstream" {
		t.Fatalf("GET /resources: %d %s", a.status, a.body)
	}
	if a := do(t, in.console, "POST", "/resources/vm-1", cookie); a.status != 200 {
		t.Fatalf("POST /resources/vm-1: %d %s", a.status, a.body)
	}
	a := do(t, in.console, "POST", "/security/password", cookie, "Accept", "text/html")
	if a.status != http.StatusForbidden || !strings.Contains(a.body, "security") || !strings.Contains(a.body, "重置密码、修改策略") {
		t.Fatalf("out of scope: %d %s", a.status, a.body)
	}
	a = do(t, in.console, "POST", "/marketplace/orders", cookie, "Accept", "application/json")
	if a.status != http.StatusForbidden || !strings.Contains(a.body, "delegation_denied") || !strings.Contains(a.body, "never allowed") {
		t.Fatalf("marketplace order: %d %s", a.status, a.body)
	}
	if got := in.upstreamHits(); len(got) != 2 || got[0] != "GET /resources" || got[1] != "POST /resources/vm-1" {
		t.Fatalf("upstream saw %q", got)
	}
	page, err := in.del.Actions(context.Background(), tenantID, customer, delegation.ActionFilter{}, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, r := range page.Actions {
		log = append(log, r.Method+" "+r.Path+" "+map[bool]string{true: "allowed", false: "denied:" + r.Reason}[r.Allowed]+" by "+r.Actor.User)
	}
	want := []string{"POST /marketplace/orders denied:not allowed under any delegated scope by pa-acme",
		"POST /security/password denied:missing scope: security by pa-acme",
		"POST /resources/vm-1 allowed by pa-acme", "GET /resources allowed by pa-acme"}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Fatalf("activity log:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}

	// Metrics: one active session; 2 allowed, 2 denied.
	metrics := func() string {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(in.sw.Collectors()...)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
				label := ""
				for _, l := range m.GetLabel() {
					label = "{" + l.GetName() + "=" + l.GetValue() + "}"
				}
				fmt.Fprintf(&b, "%s%s %g\n", mf.GetName(), label, v)
			}
		}
		return b.String()
	}
	if got, want := metrics(), "livery_delegated_requests_total{result=allowed} 2\nlivery_delegated_requests_total{result=audit_failed} 0\n"+
		"livery_delegated_requests_total{result=denied} 2\nlivery_delegated_requests_total{result=ended} 0\nlivery_delegated_sessions_active 1\n"; got != want {
		t.Fatalf("metrics:\n%s\nwant:\n%s", got, want)
	}

	a = do(t, in.console, "POST", LeavePath, cookie, "Origin", "http://"+host)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != staffURL+"/ui/t/acme/customers/"+customer {
		t.Fatalf("leave: %d %v", a.status, a.header)
	}
	if got := metrics(); !strings.Contains(got, "livery_delegated_sessions_active 0") {
		t.Fatalf("after leave, metrics:\n%s", got)
	}
	if a := do(t, in.console, "GET", "/resources", cookie); a.status != http.StatusUnauthorized {
		t.Fatalf("after leave: %d %s", a.status, a.body)
	}
	evs, err := in.del.Events(context.Background(), tenantID, customer)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Event)
	}
	if s := strings.Join(names, ","); !strings.Contains(s, "delegation.switch.in") || !strings.Contains(s, "delegation.switch.out") {
		t.Fatalf("events %s", s)
	}
}

// TestLeaveIsOriginChecked: a cross-site POST cannot switch someone back.
func TestLeaveIsOriginChecked(t *testing.T) {
	e := newEnv(t)
	in := e.instance(t)
	g := e.grant(t, in, delegation.ScopeResources)
	cookie := in.switchIn(t, g, in.staffSession(t, partnerAdmin).ID)
	if a := do(t, in.console, "POST", LeavePath, cookie, "Origin", "https://evil.example"); a.status != http.StatusForbidden {
		t.Fatalf("cross-site leave: %d", a.status)
	}
	if a := do(t, in.console, "GET", "/resources", cookie); a.status != 200 {
		t.Fatalf("session ended by a cross-site post: %d", a.status)
	}
}

// TestTokenReplay: a switch-in link works once.
func TestTokenReplay(t *testing.T) {
	e := newEnv(t)
	in := e.instance(t)
	g := e.grant(t, in, delegation.ScopeResources)
	_, tok := in.start(t, g, in.staffSession(t, partnerAdmin).ID)
	if a, c := in.enter(t, tok); a.status != http.StatusSeeOther || c == "" {
		t.Fatalf("first use: %d %s", a.status, a.body)
	}
	a, c := in.enter(t, tok)
	if a.status != http.StatusForbidden || c != "" || !strings.Contains(a.body, "already used") {
		t.Fatalf("replay: %d cookie=%q %s", a.status, c, a.body)
	}
	if a, _ := in.enter(t, "forged"); a.status != http.StatusForbidden {
		t.Fatalf("forged: %d", a.status)
	}
}

// TestSwitchNeedsStaffSession: an access token (no staff session) cannot
// switch; a link whose staff session ended is refused; the session ends
// with the staff session.
func TestSwitchNeedsStaffSession(t *testing.T) {
	e := newEnv(t)
	in := e.instance(t)
	g := e.grant(t, in, delegation.ScopeResources)
	a := do(t, in.api, "POST", "/admin/v1/tenants/acme/delegations/"+g.ID+"/switch", "")
	if a.status != http.StatusForbidden || !strings.Contains(a.body, "switch_needs_session") {
		t.Fatalf("bearer switch: %d %s", a.status, a.body)
	}
	staff := in.staffSession(t, partnerAdmin)
	_, tok := in.start(t, g, staff.ID)
	if err := in.sessions.Delete(context.Background(), staff.ID); err != nil {
		t.Fatal(err)
	}
	if a, c := in.enter(t, tok); a.status != http.StatusForbidden || c != "" {
		t.Fatalf("link after staff sign-out: %d %s", a.status, a.body)
	}
	staff = in.staffSession(t, partnerAdmin)
	cookie := in.switchIn(t, g, staff.ID)
	_ = in.sessions.Delete(context.Background(), staff.ID)
	if a := do(t, in.console, "GET", "/resources", cookie, "Accept", "text/html"); a.status != http.StatusForbidden || !strings.Contains(a.body, "ended") {
		t.Fatalf("after staff sign-out: %d %s", a.status, a.body)
	}
}

// TestStartRefusals: another tenant's staff, a manager of other
// customers, an unknown grant.
func TestStartRefusals(t *testing.T) {
	e := newEnv(t)
	in := e.instance(t)
	g := e.grant(t, in, delegation.ScopeResources)
	for _, tc := range []struct {
		name   string
		who    string
		roles  []string
		tenant string
		grant  string
		status int
	}{
		{"other tenant's admin", "pa-globex", []string{"partner_admin"}, "globex", g.ID, http.StatusForbidden},
		{"manager of other customers", "cm-2", []string{"customer_manager"}, tenantID, g.ID, http.StatusNotFound},
		{"unknown grant", "pa-acme", []string{"partner_admin"}, tenantID, "20260101T000000000000000Z-00000000", http.StatusNotFound},
		{"the customer's manager", "cm-1", []string{"customer_manager"}, tenantID, g.ID, http.StatusCreated},
	} {
		s := in.staffSession(t, partnerAdmin)
		s.Subject, s.Roles, s.HomeTenant = tc.who, tc.roles, tc.tenant
		s2, err := in.sessions.Create(context.Background(), *s)
		if err != nil {
			t.Fatal(err)
		}
		a := do(t, in.api, "POST", "/admin/v1/tenants/acme/delegations/"+tc.grant+"/switch", "", "X-Test-Staff-Session", s2.ID)
		if a.status != tc.status {
			t.Errorf("%s: %d %s; want %d", tc.name, a.status, a.body, tc.status)
		}
	}
}

// TestExpiredGrant: no switch under an expired grant, and a delegated
// session ends when its grant's time is up.
func TestExpiredGrant(t *testing.T) {
	e := newEnv(t)
	in := e.instance(t)
	g := e.grant(t, in, delegation.ScopeResources)
	staff := in.staffSession(t, partnerAdmin)
	cookie := in.switchIn(t, g, staff.ID)
	e.clock.advance(59 * time.Minute)
	if a := do(t, in.console, "GET", "/resources", cookie); a.status != 200 {
		t.Fatalf("before the end: %d %s", a.status, a.body)
	}
	e.clock.advance(2 * time.Minute) // past the session's hour (the grant has two)
	if a := do(t, in.console, "GET", "/resources", cookie, "Accept", "text/html"); a.status != http.StatusForbidden || !strings.Contains(a.body, "代客运维已结束") {
		t.Fatalf("past the session's end: %d %s", a.status, a.body)
	}
	e.clock.advance(time.Hour) // past the grant's end
	a, _ := in.start(t, g, staff.ID)
	if a.status != http.StatusConflict || !strings.Contains(a.body, "grant_not_active") {
		t.Fatalf("start under an expired grant: %d %s", a.status, a.body)
	}
}

// TestAuditFailureRefusesMutation: when the activity log cannot be
// written the request is a 503 and never reaches the upstream.
func TestAuditFailureRefusesMutation(t *testing.T) {
	e := newEnv(t)
	in := e.instance(t)
	g := e.grant(t, in, delegation.ScopeResources)
	cookie := in.switchIn(t, g, in.staffSession(t, partnerAdmin).ID)
	in.grants.fail.Store(true)
	for _, m := range []string{"POST", "PUT", "GET"} {
		if a := do(t, in.console, m, "/resources/vm-1", cookie, "Accept", "application/json"); a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "delegation_audit_unavailable") {
			t.Fatalf("%s with the log down: %d %s", m, a.status, a.body)
		}
	}
	if got := in.upstreamHits(); len(got) != 0 {
		t.Fatalf("upstream reached without audit: %q", got)
	}
	in.grants.fail.Store(false)
	if a := do(t, in.console, "POST", "/resources/vm-1", cookie); a.status != 200 {
		t.Fatalf("log back: %d", a.status)
	}
}

// TestRevokeEndsSessionOnEveryInstance: two instances on one Redis and
// store; the staff switched in on B; the customer revokes through A's
// service; B's next request is refused within 1 s. In steady state B's
// delegated requests send no Redis command.
func TestRevokeEndsSessionOnEveryInstance(t *testing.T) {
	e := newEnv(t)
	a, b := e.instance(t), e.instance(t)
	g := e.grant(t, a, delegation.ScopeResources)
	cookie := b.switchIn(t, g, b.staffSession(t, partnerAdmin).ID)
	if r := do(t, b.console, "GET", "/resources", cookie); r.status != 200 {
		t.Fatalf("warm-up: %d", r.status)
	}
	before := b.commands.Load()
	for range 20 {
		if r := do(t, b.console, "GET", "/resources", cookie); r.status != 200 {
			t.Fatalf("steady state: %d", r.status)
		}
	}
	if n := b.commands.Load() - before; n != 0 {
		t.Errorf("%d Redis commands for 20 delegated requests in steady state; want 0", n)
	}

	start := time.Now()
	if _, err := a.del.Revoke(context.Background(), tenantID, g.ID, custSubject, "no longer needed"); err != nil {
		t.Fatal(err)
	}
	var refusedAfter time.Duration
	for time.Since(start) < 3*time.Second {
		r := do(t, b.console, "GET", "/resources", cookie, "Accept", "text/html")
		if r.status == http.StatusForbidden && strings.Contains(r.body, "ended") {
			refusedAfter = time.Since(start)
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("revocation on A refused on B after %s", refusedAfter)
	if refusedAfter == 0 || refusedAfter > time.Second {
		t.Fatalf("B still serves the revoked delegation after %s (0 = never within 3 s)", time.Since(start))
	}
	// The session is gone on both instances.
	if r := do(t, a.console, "GET", "/resources", cookie); r.status != http.StatusUnauthorized {
		t.Fatalf("A after revocation: %d", r.status)
	}
	_ = web.CookieSession
}

// TestLinkOnlyFromItsMinter: a switch-in link opened from another client
// address than the one that asked for it is refused (and used up).
func TestLinkOnlyFromItsMinter(t *testing.T) {
	e := newEnv(t)
	in := e.instance(t)
	g := e.grant(t, in, delegation.ScopeResources)
	_, tok := in.start(t, g, in.staffSession(t, partnerAdmin).ID)
	in.sw.o.Trusted = trustAll // the console now reads X-Forwarded-For
	a := do(t, in.console, "GET", EnterPath+"?token="+tok, "", "X-Forwarded-For", "203.0.113.7", "Accept", "text/html")
	if a.status != http.StatusForbidden {
		t.Fatalf("forwarded link: %d %s", a.status, a.body)
	}
	in.sw.o.Trusted = nil
	if a, c := in.enter(t, tok); a.status != http.StatusForbidden || c != "" {
		t.Fatalf("link used up by the refusal: %d", a.status)
	}
}
