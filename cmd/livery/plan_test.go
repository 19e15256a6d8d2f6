package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants/records"
)

// check-config explains what the next start does with each tenant when the
// file and the store disagree, and writes nothing.
func TestCheckConfigExplainsFileAndStore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	key := strings.Repeat("m", 32)
	t.Setenv("LIVERY_SECURITY_MASTER_KEY", base64.StdEncoding.EncodeToString([]byte(key)))
	cfgPath := filepath.Join(dir, "livery.yaml")
	os.WriteFile(cfgPath, []byte("store: {driver: dir, dir: {path: "+data+"}}\ntenants:\n"+
		"  - {id: filed, name: {zh: 甲, en: Filed}, hosts: [filed.example], upstream: \"https://file.example\"}\n"+
		"  - {id: stored, name: {zh: 乙, en: Stored}, hosts: [stored.example], upstream: \"https://file.example\"}\n"+
		"  - {id: fresh, name: {zh: 丙, en: Fresh}, hosts: [fresh.example], upstream: \"https://file.example\"}\n"), 0o600)

	// No store yet: everything will be created, and no store is made.
	checkRun(t, []string{"check-config", "-config", cfgPath}, 0, []string{"tenant filed: will be created from the file"})
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("check-config created the store directory: %v", err)
	}

	st, err := objstore.NewDir(data)
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := records.NewSealer([]byte(key))
	recs := records.New(st, sealer, records.Options{})
	op := authz.Subject{User: "olga", Roles: []string{authz.RoleOperator}}
	for _, in := range []records.Input{
		{ID: "filed", Name: records.Names{ZH: "甲", EN: "Filed"}, Hosts: []string{"filed.example"}, Upstream: "https://old.example", Managed: records.ManagedFile},
		{ID: "stored", Name: records.Names{ZH: "乙", EN: "Stored"}, Hosts: []string{"stored.example"}, Upstream: "https://runtime.example", Managed: records.ManagedStore},
		{ID: "runtime", Name: records.Names{ZH: "丁", EN: "Runtime"}, Hosts: []string{"runtime.example"}, Upstream: "https://runtime.example"},
	} {
		in.Provisioner.Kind = records.ProvisionerBuiltin
		if _, err := recs.Create(context.Background(), in, op); err != nil {
			t.Fatal(err)
		}
	}
	checkRun(t, []string{"check-config", "-config", cfgPath}, 0, []string{
		"tenant filed: managed: file — will be overwritten from the file (upstream)",
		"tenant stored: managed: store — kept as stored; the file differs in upstream",
		"tenant fresh: will be created from the file",
		"tenant runtime: not in the file — kept as stored",
	})
	if r, _ := recs.Get(context.Background(), "filed"); r.Upstream != "https://old.example" {
		t.Errorf("check-config wrote: upstream = %s", r.Upstream)
	}
	if _, err := recs.Get(context.Background(), "fresh"); err == nil {
		t.Error("check-config created a tenant")
	}
	// The tools know the tenants created at runtime too.
	checkRun(t, []string{"keys", "create", "-config", cfgPath, "-tenant", "runtime"}, 0, []string{"tenant:      runtime"})
	checkRun(t, []string{"keys", "list", "-config", cfgPath, "-tenant", "nobody"}, 2,
		[]string{`unknown tenant "nobody" (tenants: filed, stored, fresh, runtime)`})
}
