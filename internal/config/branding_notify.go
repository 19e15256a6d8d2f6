package config

import (
	"fmt"
	"time"
)

// brandingNotify checks branding.notify: the kind, and for webhooks every
// URL, secret and tenant entry.
func (p *problems) brandingNotify(c *Config) {
	n := c.Branding.Notify
	switch n.Kind {
	case "log":
		return
	case "webhook":
	default:
		p.add("branding.notify.kind", "must be log or webhook, got %q", n.Kind)
		return
	}
	if n.Timeout < 100*time.Millisecond || n.Timeout > time.Minute {
		p.add("branding.notify.timeout", "must be between 100ms and 1m")
	}
	if n.MaxAttempts < 1 || n.MaxAttempts > 20 {
		p.add("branding.notify.max_attempts", "must be 1 to 20")
	}
	if n.URL == "" && len(n.Tenants) == 0 {
		p.add("branding.notify.url", "is required with kind webhook (or give tenants their own under branding.notify.tenants)")
	}
	if n.URL != "" {
		if err := checkHTTPURL(n.URL); err != nil {
			p.add("branding.notify.url", "%v", err)
		}
		if n.Secret == "" {
			p.add("branding.notify.secret", "is required with branding.notify.url: set LIVERY_BRANDING_NOTIFY_SECRET or branding.notify.secret_file")
		}
	}
	known := map[string]bool{}
	for _, t := range c.Tenants {
		known[t.ID] = true
	}
	seen := map[string]bool{}
	for i, w := range n.Tenants {
		at := fmt.Sprintf("branding.notify.tenants[%d]", i)
		switch {
		case !known[w.Tenant]:
			p.add(at+".tenant", "must be a configured tenant id, got %q", w.Tenant)
		case seen[w.Tenant]:
			p.add(at+".tenant", "tenant %q is listed twice", w.Tenant)
		}
		seen[w.Tenant] = true
		if err := checkHTTPURL(w.URL); err != nil {
			p.add(at+".url", "%v", err)
		}
		switch {
		case w.Secret == "" && w.SecretFile == "":
			p.add(at+".secret_file", "is required (the file holding this tenant's signing secret), or set %s", envPath(at+".secret"))
		case w.Secret == "":
			p.add(at+".secret_file", "the secret file is empty")
		}
	}
}
