package tenants

import (
	"errors"
	"net/url"
	"testing"
)

func TestRegistryByHost(t *testing.T) {
	up, _ := url.Parse("http://upstream")
	r, err := NewRegistry([]Tenant{
		{ID: "a", Hosts: []string{"console.a.example"}, Upstream: up},
		{ID: "b", Hosts: []string{"console.b.example:8443", "b.example"}, Upstream: up},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want string // "" = no tenant
	}{
		{"console.a.example", "a"},
		{"CONSOLE.A.EXAMPLE:8080", "a"},
		{"console.a.example.", "a"},
		{"console.b.example:8443", "b"},
		{"console.b.example", ""},
		{"console.b.example:9999", ""},
		{"b.example:1", "b"},
		{"evil.example", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := r.ByHost(tt.host)
		if (tt.want == "") == ok || (ok && got.ID != tt.want) {
			t.Errorf("ByHost(%q) = %v, %v; want %q", tt.host, got, ok, tt.want)
		}
	}
}

func TestRegistryRefusesDuplicates(t *testing.T) {
	for name, ts := range map[string][]Tenant{
		"id":   {{ID: "a", Hosts: []string{"x"}}, {ID: "a", Hosts: []string{"y"}}},
		"host": {{ID: "a", Hosts: []string{"x"}}, {ID: "b", Hosts: []string{"x"}}},
	} {
		if _, err := NewRegistry(ts); !errors.Is(err, ErrDuplicate) {
			t.Errorf("%s: want ErrDuplicate, got %v", name, err)
		}
	}
}
