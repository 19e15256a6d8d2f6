// Package deploy_test validates the deployment kit offline: the kustomize
// base and overlay, the Helm chart and the compose stack. Every Kubernetes
// object is decoded strictly into its k8s.io/api type (an unknown or
// misspelt field fails), then the invariants that keep Livery safe and
// running are checked, and the livery.yaml each kit ships passes Livery's
// own validation with the secrets it mounts (mocked).
//
// The Kubernetes and Helm libraries are linked by this test package only;
// the livery binary does not import it.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// objects is a decoded set of manifests, by kind.
type objects struct {
	Deployments     []*appsv1.Deployment
	Services        []*corev1.Service
	ConfigMaps      []*corev1.ConfigMap
	Secrets         []*corev1.Secret
	ServiceAccounts []*corev1.ServiceAccount
	Namespaces      []*corev1.Namespace
	PDBs            []*policyv1.PodDisruptionBudget
	HPAs            []*autoscalingv2.HorizontalPodAutoscaler
	NetworkPolicies []*networkingv1.NetworkPolicy
}

// decodeStrict decodes a multi-document YAML stream. Each document must be
// a kind this kit is expected to produce, in the expected API version, and
// must decode into its Go type without unknown fields.
func decodeStrict(t *testing.T, stream []byte) *objects {
	t.Helper()
	var o objects
	for i, doc := range splitDocs(stream) {
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		var tm struct{ APIVersion, Kind string }
		if err := json.Unmarshal(js, &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var dst any
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			v := new(appsv1.Deployment)
			o.Deployments, dst = append(o.Deployments, v), v
		case "v1 Service":
			v := new(corev1.Service)
			o.Services, dst = append(o.Services, v), v
		case "v1 ConfigMap":
			v := new(corev1.ConfigMap)
			o.ConfigMaps, dst = append(o.ConfigMaps, v), v
		case "v1 Secret":
			v := new(corev1.Secret)
			o.Secrets, dst = append(o.Secrets, v), v
		case "v1 ServiceAccount":
			v := new(corev1.ServiceAccount)
			o.ServiceAccounts, dst = append(o.ServiceAccounts, v), v
		case "v1 Namespace":
			v := new(corev1.Namespace)
			o.Namespaces, dst = append(o.Namespaces, v), v
		case "policy/v1 PodDisruptionBudget":
			v := new(policyv1.PodDisruptionBudget)
			o.PDBs, dst = append(o.PDBs, v), v
		case "autoscaling/v2 HorizontalPodAutoscaler":
			v := new(autoscalingv2.HorizontalPodAutoscaler)
			o.HPAs, dst = append(o.HPAs, v), v
		case "networking.k8s.io/v1 NetworkPolicy":
			v := new(networkingv1.NetworkPolicy)
			o.NetworkPolicies, dst = append(o.NetworkPolicies, v), v
		default:
			t.Fatalf("document %d: unexpected object %s %s", i, tm.APIVersion, tm.Kind)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			t.Fatalf("document %d (%s): strict decoding: %v\n%s", i, tm.Kind, err, doc)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("document %d (%s): trailing data", i, tm.Kind)
		}
	}
	return &o
}

// splitDocs splits a YAML stream at "---" lines, dropping empty documents.
func splitDocs(stream []byte) [][]byte {
	var out [][]byte
	for _, d := range strings.Split("\n"+string(stream), "\n---") {
		d = strings.TrimPrefix(d, "\n")
		if i := strings.IndexByte(d, '\n'); i >= 0 && strings.TrimSpace(d[:i]) == "" {
			d = d[i+1:]
		}
		if strings.TrimSpace(stripComments(d)) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func (o *objects) secret(name string) *corev1.Secret {
	for _, s := range o.Secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (o *objects) configMap(name string) *corev1.ConfigMap {
	for _, c := range o.ConfigMaps {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (o *objects) String() string {
	return fmt.Sprintf("%d Deployment, %d Service, %d ConfigMap, %d Secret, %d ServiceAccount, %d PDB, %d HPA, %d NetworkPolicy",
		len(o.Deployments), len(o.Services), len(o.ConfigMaps), len(o.Secrets), len(o.ServiceAccounts),
		len(o.PDBs), len(o.HPAs), len(o.NetworkPolicies))
}
