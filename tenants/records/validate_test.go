package records_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/livery/livery/tenants/records"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(in *records.Input)
		field string // "" = valid
	}{
		{"valid", func(*records.Input) {}, ""},
		{"bad id", func(in *records.Input) { in.ID = "Acme!" }, "id"},
		{"no zh name", func(in *records.Input) { in.Name.ZH = " " }, "name.zh"},
		{"control char in en name", func(in *records.Input) { in.Name.EN = "a\x01b" }, "name.en"},
		{"no hosts", func(in *records.Input) { in.Hosts = nil }, "hosts"},
		{"host with underscore", func(in *records.Input) { in.Hosts = []string{"bad_host.example"} }, "hosts[0]"},
		{"host with bad port", func(in *records.Input) { in.Hosts = []string{"ok.example", "a.example:99999"} }, "hosts[1]"},
		{"host twice after normalizing", func(in *records.Input) { in.Hosts = []string{"a.example", "A.EXAMPLE."} }, "hosts[1]"},
		{"no upstream", func(in *records.Input) { in.Upstream = "" }, "upstream"},
		{"relative upstream", func(in *records.Input) { in.Upstream = "/console" }, "upstream"},
		{"ftp upstream", func(in *records.Input) { in.Upstream = "ftp://cloud.example" }, "upstream"},
		{"upstream with credentials", func(in *records.Input) { in.Upstream = "https://u:p@cloud.example" }, "upstream"},
		{"upstream with query", func(in *records.Input) { in.Upstream = "https://cloud.example/?a=1" }, "upstream"},
		{"unknown provisioner", func(in *records.Input) { in.Provisioner.Kind = "ldap" }, "provisioner.kind"},
		{"http provisioner without url", func(in *records.Input) { in.Provisioner.Kind = "http" }, "provisioner.url"},
		{"bad risk rate", func(in *records.Input) { in.Risk.PerAddress = "ten per hour" }, "risk.per_address"},
		{"risk period under 1s", func(in *records.Input) { in.Risk.PerPartner = "5/10ms" }, "risk.per_partner"},
		{"require device with per_device off", func(in *records.Input) { in.Risk = records.Risk{PerDevice: "off", RequireDevice: true} }, "risk.require_device"},
		{"bad association type", func(in *records.Input) { in.Association.Type = "3" }, "association.type"},
		{"issuer not a URL", func(in *records.Input) { in.SignIn.Issuer = "idp.example" }, "sign_in.issuer"},
		{"no client id", func(in *records.Input) { in.SignIn.ClientID = "" }, "sign_in.client_id"},
		{"scope with space", func(in *records.Input) { in.SignIn.Scopes = []string{"openid email"} }, "sign_in.scopes[0]"},
		{"bad managed", func(in *records.Input) { in.Managed = "yaml" }, "managed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input("acme")
			tt.edit(&in)
			got, err := records.Validate(in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if got.Provisioner.Kind != records.ProvisionerBuiltin {
					t.Errorf("provisioner kind default = %q", got.Provisioner.Kind)
				}
				return
			}
			var ve *records.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, records.ErrInvalid) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			for _, f := range ve.Fields {
				if f.Field == tt.field {
					if f.Msg == "" || f.MsgZH == "" {
						t.Errorf("field %s: messages %q / %q", f.Field, f.Msg, f.MsgZH)
					}
					return
				}
			}
			t.Errorf("no error for field %s: %v", tt.field, err)
		})
	}
}

func TestValidateNormalizesHosts(t *testing.T) {
	in := input("acme", " Console.ACME.example. ", "acme.example:8443")
	got, err := records.Validate(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Hosts, ",") != "console.acme.example,acme.example:8443" {
		t.Errorf("hosts = %q", got.Hosts)
	}
}

func TestDiffMasksSecrets(t *testing.T) {
	before := records.Record{ID: "acme", Upstream: "https://a.example", Provisioner: records.Provisioner{TokenSealed: []byte("t1")},
		SignIn: &records.SignIn{Issuer: "https://idp.example", ClientID: "c", ClientSecretSealed: []byte("old-secret-bytes")}}
	after := before.Clone()
	after.Upstream = "https://b.example"
	after.SignIn.ClientSecretSealed = []byte("new-secret-bytes")
	after.Provisioner.TokenSealed = nil
	cs := records.Diff(before, after)
	got := records.FormatDiff(cs)
	want := `upstream: "https://a.example" → "https://b.example"; provisioner.token: changed; sign_in.client_secret: changed`
	if got != want {
		t.Errorf("FormatDiff =\n %s\nwant\n %s", got, want)
	}
	for _, c := range cs {
		if c.Secret && (c.Before != "" || c.After != "") {
			t.Errorf("secret change %s shows values %q → %q", c.Field, c.Before, c.After)
		}
	}
	if strings.Contains(got, "secret-bytes") || strings.Contains(got, "t1") {
		t.Errorf("diff shows a secret: %s", got)
	}
	if d := records.Diff(before, before.Clone()); len(d) != 0 {
		t.Errorf("Diff of equal records = %v", d)
	}
}
