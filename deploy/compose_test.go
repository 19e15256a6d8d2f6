package deploy_test

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/livery/livery/internal/app"
	"github.com/livery/livery/internal/config"
)

// composeFile is the part of the compose specification deploy/compose.yaml
// uses; decoding refuses any other field (a misspelt healthcheck would
// otherwise be silently ignored by this test).
type composeFile struct {
	Name       string                    `yaml:"name"`
	XBuild     map[string]any            `yaml:"x-build"`
	XLiveryEnv map[string]string         `yaml:"x-livery-env"`
	Services   map[string]composeService `yaml:"services"`
	Secrets    map[string]struct {
		Environment string `yaml:"environment"`
		File        string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

type composeService struct {
	Build *struct {
		Context    string            `yaml:"context"`
		Dockerfile string            `yaml:"dockerfile"`
		Args       map[string]string `yaml:"args"`
	} `yaml:"build"`
	Image       string            `yaml:"image"`
	Restart     string            `yaml:"restart"`
	Command     []string          `yaml:"command"`
	Ports       []string          `yaml:"ports"`
	Environment map[string]string `yaml:"environment"`
	Secrets     []string          `yaml:"secrets"`
	Volumes     []string          `yaml:"volumes"`
	Networks    map[string]struct {
		Aliases []string `yaml:"aliases"`
	} `yaml:"networks"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		StartPeriod string   `yaml:"start_period"`
		Retries     int      `yaml:"retries"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

func readCompose(t *testing.T) (*composeFile, string) {
	t.Helper()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return &c, string(b)
}

// versionTag: an image tag that names a release (7.4.2, 1.26.8-bookworm).
var versionTag = regexp.MustCompile(`^[^:]+:v?\d+(\.\d+)+([.-][0-9A-Za-z.-]+)?$`)

func TestComposeStack(t *testing.T) {
	c, raw := readCompose(t)
	for _, want := range []string{"livery", "redis", "minio", "democonsole", "demopartner"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("service %s missing", want)
		}
	}
	for name, s := range c.Services {
		switch {
		case s.Image == "":
			t.Errorf("%s: no image", name)
		case strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":"):
			t.Errorf("%s: image %q is not pinned", name, s.Image)
		case s.Build == nil && !versionTag.MatchString(s.Image):
			t.Errorf("%s: pulled image %q must be pinned by a version tag", name, s.Image)
		}
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: Dockerfile: %v", name, err)
			}
		}
		// democonsole's distroless image has nothing to probe with; Livery
		// waits only for it to start.
		if s.Healthcheck == nil && name != "democonsole" {
			t.Errorf("%s: no healthcheck", name)
		}
		for dep, d := range s.DependsOn {
			ds, ok := c.Services[dep]
			if !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			} else if d.Condition == "service_healthy" && ds.Healthcheck == nil {
				t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
			}
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s: port %q is published beyond the host's loopback", name, p)
			}
		}
	}
	if hc := c.Services["livery"].Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/livery", "healthcheck"}) {
		t.Errorf("livery's healthcheck must be [CMD, /livery, healthcheck] (the image has no shell)")
	}

	// MinIO is built from source at the harness's version.
	m := regexp.MustCompile(`(?m)^MINIO_VERSION=(\S+)$`)
	sh, err := os.ReadFile("../scripts/test.sh")
	if err != nil {
		t.Fatal(err)
	}
	want := m.FindStringSubmatch(string(sh))
	df, err := os.ReadFile("minio.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	arg := regexp.MustCompile(`(?m)^ARG MINIO_VERSION=(\S+)$`).FindStringSubmatch(string(df))
	mb := c.Services["minio"].Build
	if want == nil || arg == nil || mb == nil || arg[1] != want[1] || mb.Args["MINIO_VERSION"] != want[1] ||
		!strings.HasSuffix(c.Services["minio"].Image, ":"+want[1]) {
		t.Errorf("MinIO must be built at scripts/test.sh's MINIO_VERSION %v (Dockerfile %v)", want, arg)
	}

	// Every variable the operator must set is documented in the header.
	header := raw[:strings.Index(raw, "\nname:")]
	for _, v := range regexp.MustCompile(`\$\{([A-Z0-9_]+):\?`).FindAllStringSubmatch(raw, -1) {
		if !strings.Contains(header, "export ") || !regexp.MustCompile(`\b`+v[1]+`=`).MatchString(header) {
			t.Errorf("the header does not say how to set %s", v[1])
		}
	}
	if !strings.Contains(header, "LIVERY_MASTER_KEY=") {
		t.Errorf("the header must document LIVERY_MASTER_KEY")
	}
	for _, s := range c.Secrets {
		if s.Environment != "" && !strings.Contains(raw, "${"+s.Environment+":?") {
			t.Errorf("secret from %s: nothing makes compose refuse to start without it", s.Environment)
		}
	}
}

// TestComposeConfiguration checks deploy/livery.compose.yaml as the livery
// service sees it (its environment and its secrets, mocked) and as the demo
// partner sees it (it runs `livery keys create` with the same settings),
// and that the demo tenant's sign-in provider is the demopartner service.
func TestComposeConfiguration(t *testing.T) {
	c, _ := readCompose(t)
	var cfg *config.Config
	for _, name := range []string{"livery", "demopartner"} {
		cfg = composeConfig(t, c, name)
	}
	if len(cfg.Tenants) == 0 || cfg.Tenants[0].OIDC == nil {
		t.Fatalf("the demo tenant has no sign-in provider")
	}
	tn := cfg.Tenants[0]
	issuer, err := url.Parse(tn.OIDC.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	dp := c.Services["demopartner"]
	if !slices.Contains(dp.Networks["default"].Aliases, issuer.Hostname()) {
		t.Errorf("the issuer's host %s is not an alias of the demopartner service", issuer.Hostname())
	}
	flags := map[string]string{}
	for _, a := range dp.Command {
		k, v, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		flags[k] = v
	}
	console := "http://" + tn.Hosts[0] + ":8080"
	for k, want := range map[string]string{
		"public-url":    strings.TrimSuffix(tn.OIDC.Issuer, "/idp"),
		"client-id":     tn.OIDC.ClientID,
		"xaccount-type": tn.ID,
		"redirect-uris": console + "/_livery/callback",
		"console-url":   console + "/",
		"listen":        ":" + issuer.Port(),
		"partner-api":   "http://livery:8081",
	} {
		if flags[k] != want {
			t.Errorf("demopartner -%s=%q, want %q", k, flags[k], want)
		}
	}
	if !strings.Contains(dp.Environment["DEMOPARTNER_CLIENT_SECRET"], "DEMO_OIDC_CLIENT_SECRET") {
		t.Errorf("demopartner's client secret must be the one Livery's secret file holds")
	}
}

// composeConfig loads livery.yaml as the named service would.
func composeConfig(t *testing.T, c *composeFile, name string) *config.Config {
	t.Helper()
	s := c.Services[name]
	root := t.TempDir()
	var file string
	for _, v := range s.Volumes {
		if src, dst, _ := strings.Cut(v, ":"); strings.HasPrefix(dst, "/etc/livery/livery.yaml") {
			file = src
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%s: livery.yaml: %v", name, err)
	}
	for _, sec := range s.Secrets {
		if _, ok := c.Secrets[sec]; !ok {
			t.Fatalf("%s: unknown secret %s", name, sec)
		}
		writeFile(t, filepath.Join(root, "run/secrets", sec), "mock-"+sec)
	}
	env := map[string]string{}
	for k, v := range s.Environment {
		if strings.HasPrefix(v, "${") { // a value the operator supplies
			v = "placeholder"
			if k == "LIVERY_SECURITY_MASTER_KEY" {
				v = mockValue("master-key")
			}
		}
		env[k] = v
	}
	rewritten := strings.ReplaceAll(string(data), " /run/secrets/", " "+filepath.Join(root, "run/secrets")+"/")
	cfg, problems := config.Parse([]byte(rewritten), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if len(problems) > 0 {
		t.Fatalf("%s: compose configuration refused: %v", name, problems)
	}
	if p := app.CheckReferencedFiles(cfg); len(p) > 0 {
		t.Fatalf("%s: %v", name, p)
	}
	return cfg
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDockerfilesPinned: every base image of the kit's Dockerfiles names a
// release, except distroless, which publishes no version tags (its
// :nonroot and :debug-nonroot tags track Debian 12 security updates).
func TestDockerfilesPinned(t *testing.T) {
	files, _ := filepath.Glob("*Dockerfile")
	if len(files) < 4 {
		t.Fatalf("found Dockerfiles %v", files)
	}
	from := regexp.MustCompile(`(?m)^FROM\s+(\S+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range from.FindAllStringSubmatch(string(b), -1) {
			img := m[1]
			if strings.HasPrefix(img, "gcr.io/distroless/static-debian12:") && strings.HasSuffix(img, "nonroot") {
				continue
			}
			if !versionTag.MatchString(img) {
				t.Errorf("%s: FROM %s is not pinned to a release", f, img)
			}
		}
	}
}
