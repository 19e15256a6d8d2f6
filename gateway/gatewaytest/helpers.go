package gatewaytest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// HeaderEcho is the demo console's answer to /headers?format=json: what
// the upstream received.
type HeaderEcho struct {
	Host    string              `json:"host"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
}

// Grep returns the lines of text that contain substr (for failure
// messages about a metrics scrape).
func Grep(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// BrandDoc is a complete branding document with the given logo (a JSON
// value: null or an asset object) and link base.
func BrandDoc(logo, link string) string {
	return fmt.Sprintf(`{"brand":{"logo_zh":%[1]s,"logo_en":%[1]s,"link_zh":"%[2]s/zh","link_en":"%[2]s/en","nav_color":"#123456"},
"promotions":[{"name_zh":"优惠","name_en":"Deals","link":"https://deals.acme.example/"}],
"menus":{"show_info":true,"show_resources":false,"show_user":true,"show_custom":true,"custom":[{"name_zh":"帮助","name_en":"Help","link":"https://help.acme.example/"}]},
"ops":{"show_announcements":true,"show_activities":false,"show_recommended":true,"announcements":[]}}`, logo, link)
}

// DecodeJSON unmarshals s into v, failing the test with s when it cannot.
func DecodeJSON(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}
