package deploy_test

import (
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

const chartDir = "helm/livery"

// helmTemplate renders the chart as `helm template livery` would, values
// checked against values.schema.json, and returns the manifests (NOTES.txt
// apart).
func helmTemplate(t *testing.T, vals map[string]any) (manifests []byte, notes string, err error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	if err := chrt.Validate(); err != nil {
		t.Fatalf("chart: %v", err)
	}
	rv, err := chartutil.ToRenderValues(chrt, vals, chartutil.ReleaseOptions{
		Name: "livery", Namespace: "livery", Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, "", err
	}
	files, err := engine.Engine{Strict: true}.Render(chrt, rv)
	if err != nil {
		return nil, "", err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		switch {
		case strings.HasSuffix(n, "NOTES.txt"):
			notes = files[n]
		case strings.HasSuffix(n, ".yaml"):
			b.WriteString("\n---\n# Source: " + n + "\n" + files[n])
		}
	}
	return []byte(b.String()), notes, nil
}

func testValues(t *testing.T) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValuesFile(chartDir + "/ci/test-values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestHelmChart(t *testing.T) {
	out, notes, err := helmTemplate(t, testValues(t))
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	o := decodeStrict(t, out)
	checkInvariants(t, o)
	if len(o.Secrets) != 1 || o.Deployments[0].Spec.Replicas != nil {
		t.Errorf("want one Secret and replicas left to the HPA: %s", o)
	}
	ann := o.Deployments[0].Spec.Template.Annotations
	if ann["checksum/config"] == "" || ann["checksum/secrets"] == "" {
		t.Errorf("pods must roll on configuration and secret changes: %v", ann)
	}
	for _, want := range []string{"livery-console", "livery-ops", "keys create -tenant example"} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, notes)
		}
	}
}

// Without HPA, PDB and NetworkPolicy the chart still renders what it must.
func TestHelmChartOptionalObjects(t *testing.T) {
	v := testValues(t)
	v["autoscaling"] = map[string]any{"enabled": false}
	v["podDisruptionBudget"] = map[string]any{"enabled": false}
	v["networkPolicy"] = map[string]any{"enabled": false}
	v["replicaCount"] = 3
	out, _, err := helmTemplate(t, v)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	o := decodeStrict(t, out)
	if len(o.HPAs)+len(o.PDBs)+len(o.NetworkPolicies) != 0 || *o.Deployments[0].Spec.Replicas != 3 {
		t.Errorf("disabled objects rendered: %s", o)
	}
}

// existingSecret: the chart creates no Secret and mounts the named one.
func TestHelmChartExistingSecret(t *testing.T) {
	v := testValues(t)
	v["secrets"] = map[string]any{"existingSecret": "my-livery-secrets"}
	out, _, err := helmTemplate(t, v)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	o := decodeStrict(t, out)
	pod := o.Deployments[0].Spec.Template.Spec
	if len(o.Secrets) != 0 || volumeAt(pod, livery(t, pod), "/etc/livery/secrets").Secret.SecretName != "my-livery-secrets" {
		t.Errorf("existingSecret not used: %s", o)
	}
}

// Values that would make Livery exit or expose a listener are refused at
// render time, with a message naming the value.
func TestHelmChartRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(v map[string]any)
		want string
	}{
		{"no tenants", func(v map[string]any) { v["config"].(map[string]any)["tenants"] = []any{} }, "config.tenants"},
		{"no master key", func(v map[string]any) { delete(v["secrets"].(map[string]any), "masterKey") }, "secrets.masterKey is required"},
		{"ops on loopback", func(v map[string]any) {
			v["config"].(map[string]any)["ops"] = map[string]any{"addr": "127.0.0.1:8082"}
		}, "ops"},
		{"latest tag", func(v map[string]any) { v["image"] = map[string]any{"tag": "latest"} }, "tag"},
		{"unknown value", func(v map[string]any) { v["replicas"] = 2 }, "replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := testValues(t)
			tc.edit(v)
			_, _, err := helmTemplate(t, v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}
