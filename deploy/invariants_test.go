package deploy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/livery/livery/internal/app"
	"github.com/livery/livery/internal/config"
)

// Livery's listener ports as the kits configure them.
const (
	consolePort = 8080
	apiPort     = 8081
	opsPort     = 8082
)

// checkInvariants checks what every rendering of the kit must hold.
func checkInvariants(t *testing.T, o *objects) {
	t.Helper()
	if len(o.Deployments) != 1 {
		t.Fatalf("want one Deployment, got %s", o)
	}
	d := o.Deployments[0]
	pod := d.Spec.Template.Spec
	c := livery(t, pod)
	podLabels := labels.Set(d.Spec.Template.Labels)
	if sel := d.Spec.Selector; sel == nil || !labels.SelectorFromSet(sel.MatchLabels).Matches(podLabels) {
		t.Errorf("the Deployment's selector does not select its pods")
	}

	// Ports and probes: the operations listener only.
	want := map[string]int32{"console": consolePort, "api": apiPort, "ops": opsPort}
	for _, p := range c.Ports {
		if want[p.Name] != p.ContainerPort {
			t.Errorf("container port %s=%d, want %v", p.Name, p.ContainerPort, want)
		}
	}
	if len(c.Ports) != 3 {
		t.Errorf("container ports %v, want console, api, ops", c.Ports)
	}
	for _, pr := range []struct {
		name string
		p    *corev1.Probe
		path string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"startup", c.StartupProbe, ""}} {
		if pr.p == nil || pr.p.HTTPGet == nil {
			t.Errorf("%s probe: missing or not httpGet", pr.name)
			continue
		}
		if got := resolvePort(c, pr.p.HTTPGet.Port); got != opsPort {
			t.Errorf("%s probe on port %d, want the ops port %d", pr.name, got, opsPort)
		}
		if pr.path != "" && pr.p.HTTPGet.Path != pr.path {
			t.Errorf("%s probe path %q, want %q", pr.name, pr.p.HTTPGet.Path, pr.path)
		} else if p := pr.p.HTTPGet.Path; p != "/healthz" && p != "/readyz" {
			t.Errorf("%s probe path %q", pr.name, p)
		}
	}

	// Security context.
	psc, sc := pod.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("pod securityContext.runAsNonRoot must be true")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccompProfile must be RuntimeDefault")
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("container readOnlyRootFilesystem must be true")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container allowPrivilegeEscalation must be false")
	}
	if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0 {
		t.Errorf("container capabilities must drop ALL and add none")
	}
	if v := volumeAt(pod, c, "/tmp"); v == nil || v.EmptyDir == nil {
		t.Errorf("/tmp must be an emptyDir (the root filesystem is read-only)")
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Errorf("enableServiceLinks must be false: Services named livery-* would inject LIVERY_*_PORT variables")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken must be false (Livery never calls the Kubernetes API)")
	}
	if len(o.ServiceAccounts) != 1 || pod.ServiceAccountName != o.ServiceAccounts[0].Name {
		t.Errorf("the pod must run as the kit's ServiceAccount")
	}
	if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
		t.Errorf("a CPU request is required (the HPA scales on utilisation of it)")
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Errorf("a memory limit is required")
	}
	if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") {
		t.Errorf("image %q must be pinned by tag", c.Image)
	}

	checkServices(t, o, podLabels)
	checkPolicies(t, o, podLabels, d.Name)
	cfg := checkConfig(t, o, pod, c)
	grace := time.Duration(30) * time.Second
	if pod.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	if need := cfg.Shutdown.DrainDelay + cfg.Shutdown.Timeout; grace <= need {
		t.Errorf("terminationGracePeriodSeconds %s must exceed shutdown.drain_delay + shutdown.timeout = %s", grace, need)
	}
	if lim, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		if mb := int64(cfg.Runtime.MemoryLimitMB); mb == 0 || mb<<20 >= lim.Value() {
			t.Errorf("runtime.memory_limit_mb (%d) must be set below the memory limit %s", mb, lim.String())
		}
	}
}

func livery(t *testing.T, pod corev1.PodSpec) *corev1.Container {
	t.Helper()
	for i := range pod.Containers {
		if pod.Containers[i].Name == "livery" {
			return &pod.Containers[i]
		}
	}
	t.Fatalf("no container named livery")
	return nil
}

// resolvePort maps a numeric or named port to the container port number.
func resolvePort(c *corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return -1
}

func volumeAt(pod corev1.PodSpec, c *corev1.Container, path string) *corev1.Volume {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			for i := range pod.Volumes {
				if pod.Volumes[i].Name == m.Name {
					return &pod.Volumes[i]
				}
			}
		}
	}
	return nil
}

// checkServices: the public Service carries the console port only, and the
// api and ops ports are on cluster-internal Services.
func checkServices(t *testing.T, o *objects, pods labels.Set) {
	t.Helper()
	c := livery(t, o.Deployments[0].Spec.Template.Spec)
	exposed := map[int32]string{}
	for _, s := range o.Services {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(pods) || len(s.Spec.Selector) == 0 {
			t.Errorf("Service %s does not select Livery's pods", s.Name)
		}
		public := s.Spec.Type == corev1.ServiceTypeLoadBalancer || s.Spec.Type == corev1.ServiceTypeNodePort ||
			len(s.Spec.ExternalIPs) > 0 || strings.HasSuffix(s.Name, "-console")
		var targets []int32
		for _, p := range s.Spec.Ports {
			tp := p.TargetPort
			if tp.Type == intstr.Int && tp.IntVal == 0 {
				tp = intstr.FromInt32(p.Port)
			}
			targets = append(targets, resolvePort(c, tp))
		}
		if len(targets) != 1 {
			t.Errorf("Service %s exposes %d ports; one listener per Service", s.Name, len(targets))
		}
		for _, tp := range targets {
			if tp == apiPort || tp == opsPort {
				if public {
					t.Errorf("Service %s is public (%s) and exposes port %d", s.Name, s.Spec.Type, tp)
				}
			} else if tp != consolePort {
				t.Errorf("Service %s targets port %d, not a Livery listener", s.Name, tp)
			}
			exposed[tp] = s.Name
		}
	}
	for _, p := range []int32{consolePort, apiPort, opsPort} {
		if exposed[p] == "" {
			t.Errorf("no Service for port %d", p)
		}
	}
}

// checkPolicies: PDB, HPA and NetworkPolicy exist and match the pods.
func checkPolicies(t *testing.T, o *objects, pods labels.Set, deployment string) {
	t.Helper()
	c := livery(t, o.Deployments[0].Spec.Template.Spec)
	if len(o.PDBs) != 1 || o.PDBs[0].Spec.Selector == nil ||
		!labels.SelectorFromSet(o.PDBs[0].Spec.Selector.MatchLabels).Matches(pods) {
		t.Errorf("want one PodDisruptionBudget selecting the pods")
	}
	if len(o.HPAs) != 1 {
		t.Errorf("want one HorizontalPodAutoscaler, got %d", len(o.HPAs))
	} else {
		h := o.HPAs[0].Spec
		cpu := false
		for _, m := range h.Metrics {
			cpu = cpu || (m.Resource != nil && m.Resource.Name == corev1.ResourceCPU)
		}
		if h.ScaleTargetRef.Kind != "Deployment" || h.ScaleTargetRef.Name != deployment || !cpu ||
			h.MinReplicas == nil || *h.MinReplicas < 2 || h.MaxReplicas < *h.MinReplicas {
			t.Errorf("HPA must scale Deployment %s on CPU with minReplicas >= 2: %+v", deployment, h)
		}
	}
	if len(o.NetworkPolicies) != 1 {
		t.Fatalf("want one NetworkPolicy, got %d", len(o.NetworkPolicies))
	}
	np := o.NetworkPolicies[0].Spec
	if !labels.SelectorFromSet(np.PodSelector.MatchLabels).Matches(pods) || len(np.PodSelector.MatchLabels) == 0 {
		t.Errorf("NetworkPolicy does not select the pods")
	}
	if len(np.PolicyTypes) != 2 {
		t.Errorf("NetworkPolicy must restrict Ingress and Egress, has %v", np.PolicyTypes)
	}
	open := map[int32]bool{}
	seen := map[int32]bool{}
	for _, r := range np.Ingress {
		if len(r.Ports) == 0 {
			t.Errorf("an ingress rule without ports opens every listener")
		}
		for _, p := range r.Ports {
			n := resolvePort(c, *p.Port)
			seen[n] = true
			if len(r.From) == 0 {
				open[n] = true
			}
			for _, f := range r.From {
				if f.IPBlock != nil || (f.NamespaceSelector != nil && len(f.NamespaceSelector.MatchLabels)+len(f.NamespaceSelector.MatchExpressions) == 0) {
					t.Errorf("ingress to port %d from %+v: too wide", n, f)
				}
			}
		}
	}
	if !open[consolePort] || open[apiPort] || open[opsPort] || !seen[apiPort] || !seen[opsPort] {
		t.Errorf("ingress must be open to the console port only (open %v, admitted %v)", open, seen)
	}
	if len(np.Egress) == 0 {
		t.Errorf("NetworkPolicy has no egress rule (DNS, Redis, S3, issuers, upstream)")
	}
}

// checkConfig decodes the mounted livery.yaml and runs Livery's own
// validation on it, with every secret file it names written (mocked) where
// the pod's volumes would put it and the container's environment applied.
func checkConfig(t *testing.T, o *objects, pod corev1.PodSpec, c *corev1.Container) *config.Config {
	t.Helper()
	root := t.TempDir()
	var data string
	for _, m := range c.VolumeMounts {
		v := volumeAt(pod, c, m.MountPath)
		dir := filepath.Join(root, m.MountPath)
		switch {
		case v.ConfigMap != nil:
			cm := o.configMap(v.ConfigMap.Name)
			if cm == nil {
				t.Fatalf("volume %s: no ConfigMap %s", v.Name, v.ConfigMap.Name)
			}
			if m.MountPath != "/etc/livery/livery.yaml" || m.SubPath != "livery.yaml" {
				t.Fatalf("the ConfigMap must be mounted at /etc/livery/livery.yaml (subPath livery.yaml)")
			}
			data = cm.Data["livery.yaml"]
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.Secret == nil {
					continue
				}
				s := o.secret(src.Secret.Name)
				if s == nil {
					t.Fatalf("volume %s: no Secret %s", v.Name, src.Secret.Name)
				}
				for _, it := range src.Secret.Items {
					writeMock(t, s, it.Key, filepath.Join(dir, it.Path))
				}
			}
		case v.Secret != nil:
			s := o.secret(v.Secret.SecretName)
			if s == nil {
				t.Fatalf("volume %s: no Secret %s", v.Name, v.Secret.SecretName)
			}
			for k := range s.Data {
				writeMock(t, s, k, filepath.Join(dir, k))
			}
			for k := range s.StringData {
				writeMock(t, s, k, filepath.Join(dir, k))
			}
		}
	}
	if data == "" {
		t.Fatalf("no livery.yaml mounted")
	}
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s := o.secret(ref.Name)
			if s == nil || !hasKey(s, ref.Key) {
				t.Fatalf("env %s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = mockValue(ref.Key)
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		default:
			t.Fatalf("env %s: unsupported source", e.Name)
		}
	}
	// Secret files live under /etc/livery/secrets (checked: a path outside
	// the mounts is not rewritten and cannot be read).
	rewritten := strings.ReplaceAll(data, " /etc/livery/", " "+filepath.Join(root, "etc/livery")+"/")
	cfg, problems := config.Parse([]byte(rewritten), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if len(problems) > 0 {
		t.Fatalf("livery.yaml refused by config validation: %v", problems)
	}
	if p := app.CheckReferencedFiles(cfg); len(p) > 0 {
		t.Fatalf("livery.yaml's referenced files refused: %v", p)
	}
	if len(cfg.Identity.AssertionKeys) == 0 {
		t.Errorf("identity.assertion_keys must be set: replicas with ephemeral keys publish different JWKS")
	}
	if cfg.Redis.Embedded() || cfg.Store.Driver != "s3" {
		t.Errorf("several replicas need a shared Redis and the s3 store")
	}
	for name, pair := range map[string]struct {
		addr string
		port int
	}{"console.addr": {cfg.Console.Addr, consolePort}, "api.addr": {cfg.API.Addr, apiPort}, "ops.addr": {cfg.Ops.Addr, opsPort}} {
		host, port, err := net.SplitHostPort(pair.addr)
		if err != nil || port != strconv.Itoa(pair.port) || host != "" {
			t.Errorf("%s = %q, want \":%d\" (reachable from the kubelet and Services)", name, pair.addr, pair.port)
		}
	}
	return cfg
}

func hasKey(s *corev1.Secret, k string) bool {
	_, a := s.Data[k]
	_, b := s.StringData[k]
	return a || b
}

// writeMock writes a stand-in for the secret key k of s at path.
func writeMock(t *testing.T, s *corev1.Secret, k, path string) {
	t.Helper()
	if !hasKey(s, k) {
		t.Fatalf("Secret %s has no key %s", s.Name, k)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(mockValue(k)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mockValue is a valid stand-in for a secret, judged by its key's name.
func mockValue(key string) string {
	switch {
	case strings.Contains(key, "master-key"):
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	case strings.HasSuffix(key, ".pem"):
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalECPrivateKey(k)
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	default:
		return "mock-" + key + "\n"
	}
}
