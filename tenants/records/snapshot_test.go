package records_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/records"
)

var snapshotTests = []testCase{
	{"snapshot: by host and id, live values with opened secrets", func(t *testing.T, e *env) {
		a := input("acme", "console.acme.example", "acme.example:8443")
		a.Provisioner = records.ProvisionerInput{Kind: "http", URL: "https://accounts.cloud.example", Token: ptr("tok-1")}
		a.Risk = records.Risk{PerDevice: "5/1h", PerAddress: "off"}
		a.Association.Type = "1"
		mustCreate(t, e, a)
		b := input("beta")
		b.SignIn = nil
		mustCreate(t, e, b)
		if _, err := e.s.Suspend(e.ctx, "beta", "", operator); err != nil {
			t.Fatal(err)
		}
		snap, err := e.s.Snapshot(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for host, want := range map[string]string{"console.acme.example": "acme", "CONSOLE.ACME.EXAMPLE.:443": "acme",
			"acme.example:8443": "acme", "console.beta.example:8080": "beta"} {
			if r, ok := snap.ByHost(host); !ok || r.ID != want {
				t.Errorf("ByHost(%q) = %q, %v", host, r.ID, ok)
			}
		}
		if _, ok := snap.ByHost("acme.example"); ok {
			t.Errorf("a host stored with a port matched without it")
		}
		// Copies: changing a returned record changes nothing in the snapshot.
		r, _ := snap.ByID("acme")
		r.Hosts[0] = "evil.example"
		if _, ok := snap.ByHost("evil.example"); ok {
			t.Errorf("snapshot changed through a returned record")
		}
		live, err := snap.Tenants(e.sealer)
		if err != nil || len(live) != 2 {
			t.Fatalf("Tenants = %v, %v", live, err)
		}
		la, lb := live[0], live[1]
		if la.ID != "acme" || la.XAccountType != "acme" || la.Upstream.Host != "console.cloud.example" ||
			la.SignIn.ClientSecret != "s3cret-acme" || la.SignIn.AccountClaim != "sub" || la.Provisioner.Token != "tok-1" ||
			la.Provisioner.Kind != "http" || la.AssociationType != "1" || la.Suspended || la.Version != 1 {
			t.Errorf("live acme = %+v / %+v", la, la.SignIn)
		}
		if la.Risk.PerDevice != tenants.PerHour(5) || la.Risk.PerAddress.N < 1<<20 || la.Risk.PerPartner != (tenants.Quota{}) {
			t.Errorf("risk = %+v", la.Risk)
		}
		if !lb.Suspended || lb.SignIn != nil || lb.AssociationType != tenants.AssociationResale || lb.Version != 2 {
			t.Errorf("live beta = %+v", lb)
		}
		reg, err := snap.Registry(e.sealer)
		if err != nil {
			t.Fatal(err)
		}
		if tn, ok := reg.ByHost("acme.example:8443"); !ok || tn.ID != "acme" {
			t.Errorf("registry ByHost = %v, %v", tn, ok)
		}

		// Under another master key the secrets do not open: that tenant is
		// left out and named, the others are built.
		other, _ := records.NewSealer(bytes.Repeat([]byte{9}, 32))
		live, err = snap.Tenants(other)
		if !errors.Is(err, records.ErrUnseal) || len(live) != 1 || live[0].ID != "beta" {
			t.Errorf("Tenants under a wrong key = %v, %v", live, err)
		}
		reg, err = snap.Registry(other)
		if _, ok := reg.ByID("acme"); !errors.Is(err, records.ErrUnseal) || ok {
			t.Errorf("Registry under a wrong key: acme present %v, err %v", ok, err)
		}
	}},
}

func TestNewSnapshotRefusesDuplicateHosts(t *testing.T) {
	_, err := records.NewSnapshot([]records.Record{{ID: "a", Hosts: []string{"x.example"}}, {ID: "b", Hosts: []string{"x.example"}}})
	var hc *records.HostConflictError
	if !errors.As(err, &hc) || hc.Other != "a" || hc.Tenant != "b" {
		t.Errorf("NewSnapshot = %v", err)
	}
}
