package deploy_test

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlaySecretFiles are the files the example overlay's secretGenerator
// reads; an operator creates them (they are not in git), the test mocks them.
var overlaySecretFiles = []string{"master-key", "s3-access-key", "s3-secret-key",
	"staff-client-secret", "example-client-secret", "assertion-key.pem"}

// kustomizeBuild copies deploy/kubernetes into an in-memory file system,
// adds the given extra files and runs `kustomize build` on dir.
func kustomizeBuild(t *testing.T, dir string, extra map[string]string) []byte {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	err := fs.WalkDir(os.DirFS("kubernetes"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path.Join("kubernetes", p))
		if err != nil {
			return err
		}
		return mem.WriteFile(path.Join("/k", p), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, s := range extra {
		if err := mem.WriteFile(path.Join("/k", p), []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(mem, path.Join("/k", dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKustomizeBase(t *testing.T) {
	o := decodeStrict(t, kustomizeBuild(t, "base", nil))
	checkInvariants(t, o)
	// The base's Secrets are placeholders Livery refuses, never real values.
	for _, s := range o.Secrets {
		for k, v := range s.StringData {
			if v != "CHANGE-ME" {
				t.Errorf("base Secret %s key %s holds a value; placeholders only", s.Name, k)
			}
		}
	}
}

func TestKustomizeExampleOverlay(t *testing.T) {
	extra := map[string]string{}
	for _, f := range overlaySecretFiles {
		extra["overlays/example/secrets/"+f] = mockValue(f)
	}
	o := decodeStrict(t, kustomizeBuild(t, "overlays/example", extra))
	checkInvariants(t, o)
	if len(o.Namespaces) != 1 || o.Namespaces[0].Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("the overlay's namespace must enforce the restricted Pod Security profile")
	}
	d := o.Deployments[0]
	if d.Namespace != "livery" || *d.Spec.Replicas != 3 || *o.HPAs[0].Spec.MinReplicas != 3 {
		t.Errorf("overlay patches not applied: namespace %q replicas %d", d.Namespace, *d.Spec.Replicas)
	}
	// Generated names carry a content hash, and the pod refers to them.
	for _, s := range o.Secrets {
		if strings.Contains(string(s.Data["master-key"]), "CHANGE-ME") {
			t.Errorf("Secret %s still holds the base placeholder", s.Name)
		}
	}
	cfgName := d.Spec.Template.Spec.Volumes[0].ConfigMap.Name
	if !strings.HasPrefix(cfgName, "livery-config-") {
		t.Errorf("config volume refers to %q, want the hashed livery-config-…", cfgName)
	}
}

// The secrets directory of the example overlay must keep real secrets out
// of git.
func TestExampleOverlaySecretsIgnored(t *testing.T) {
	b, err := os.ReadFile("kubernetes/overlays/example/secrets/.gitignore")
	if err != nil || !strings.HasPrefix(string(b), "*\n") {
		t.Fatalf("secrets/.gitignore must ignore everything: %q %v", b, err)
	}
}
