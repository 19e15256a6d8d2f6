package branded

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/branding/inject"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/preview"
)

// LiveBranding is the live branding of each tenant as this instance knows
// it (branding/live.Cache): no I/O in steady state.
type LiveBranding interface {
	Get(tenant string) (v *workflow.Version, ok bool)
}

// Chrome is the ChromeProvider of approved branding (and of a staff
// member's preview): it renders through a bounded cache per (tenant,
// version, locale) and remembers the stylesheets it referenced so that
// AssetSource.Stylesheet can serve them.
type Chrome struct {
	Live     LiveBranding
	Upstream render.Upstream
	// Names gives the partner's display name (logo alt text) per tenant
	// and locale; nil uses the renderer's default.
	Names func(tenant, locale string) string

	cache     *render.Cache
	csp       render.CSPCache // the console's policies, by value with nonces masked
	unbranded *prometheus.CounterVec

	mu       sync.Mutex
	previews map[string]*render.Chrome // preview renders by content key
	styles   map[string][]byte         // stylesheet path → CSS
}

// NewChrome builds the provider. The gateway it is given to counts
// documents served unbranded (livery_branding_unbranded_total).
func NewChrome(live LiveBranding, up render.Upstream) *Chrome {
	return &Chrome{Live: live, Upstream: up, cache: render.NewCache(render.DefaultCacheSize),
		previews: map[string]*render.Chrome{}, styles: map[string][]byte{}}
}

const maxRemembered = 256

// CacheStats reports the rendered-chrome cache (render.Cache.Stats).
func (b *Chrome) CacheStats() (entries int, hits, misses uint64) { return b.cache.Stats() }

// Chrome implements ChromeProvider.
func (b *Chrome) Chrome(out *exchange.Outbound, csp []string) (inject.Fragments, []string, bool) {
	t := out.Tenant
	if t == nil {
		return inject.Fragments{}, nil, false
	}
	locale := render.Locale(string(out.Header.Peek("Accept-Language")), out.Lang)
	user := ""
	if s := out.Session; s != nil {
		user = s.User
	}
	var ch *render.Chrome
	if pv := out.Preview; pv != nil {
		if user == "" {
			user = cmp.Or(pv.Name, pv.User)
		}
		ch = b.preview(pv, locale)
	} else {
		v, ok := b.Live.Get(t.ID)
		switch {
		case ok:
			ch = b.approved(t.ID, v, locale)
		case out.Delegation != nil:
			// A delegated session always carries its banner: without an
			// approved version, in the default chrome (as Livery's own pages).
			ch = b.forPage(t.ID, nil, locale)
		default:
			if b.unbranded != nil {
				b.unbranded.WithLabelValues(t.ID).Inc()
			}
			return inject.Fragments{}, nil, false
		}
	}
	newCSP, nonce := b.csp.Adjust(csp, ch.StyleHash())
	f := ch.Fragments(user, nonce)
	if d := out.Delegation; d != nil {
		f.Body = append(b.banner(d, locale), f.Body...)
	}
	return f, newCSP, true
}

// banner is the delegated-operation banner of a delegated request (it
// goes before the header bar).
func (b *Chrome) banner(d *exchange.Delegation, locale string) []byte {
	return render.DelegationBanner(render.Banner{Customer: d.Customer, Partner: cmp.Or(b.name(d.Partner, locale), d.Partner),
		Staff: cmp.Or(d.ActorName, d.Actor), Left: time.Until(d.Ends), LeavePath: d.LeavePath}, locale)
}

// approved returns the cached chrome of an approved version. Rendering
// (once per tenant, version and locale) records its stylesheet, so the hot
// path takes no lock of its own.
func (b *Chrome) approved(tenant string, v *workflow.Version, locale string) *render.Chrome {
	return b.cache.Get(render.Key{Tenant: tenant, Version: v.Number, Locale: locale}, time.Now(), func() *render.Chrome {
		ch := render.Render(tenant, v.Number, &v.Doc, locale, b.Upstream, render.RenderOptions{PartnerName: b.name(tenant, locale)})
		b.remember(ch)
		return ch
	})
}

func (b *Chrome) name(tenant, locale string) string {
	if b.Names == nil {
		return ""
	}
	return b.Names(tenant, locale)
}

// preview renders a preview document (cached by its content).
func (b *Chrome) preview(pv *preview.Preview, locale string) *render.Chrome {
	doc, _ := json.Marshal(pv.Doc)
	sum := sha256.Sum256(append([]byte(pv.Tenant+"\x00"+locale+"\x00"), doc...))
	key := string(sum[:])
	b.mu.Lock()
	ch := b.previews[key]
	b.mu.Unlock()
	if ch != nil && !ch.Expired(time.Now()) {
		return ch
	}
	// Preview versions are numbered 0: they never collide with a live
	// stylesheet path because the path carries the CSS hash.
	ch = render.Render(pv.Tenant, 0, &pv.Doc, locale, b.Upstream,
		render.RenderOptions{Preview: true, PartnerName: b.name(pv.Tenant, locale)})
	b.remember(ch)
	b.mu.Lock()
	if len(b.previews) >= maxRemembered {
		clear(b.previews)
	}
	b.previews[key] = ch
	b.mu.Unlock()
	return ch
}

func (b *Chrome) remember(ch *render.Chrome) {
	p := ch.StylesheetPath()
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.styles[p]; ok {
		return
	}
	if len(b.styles) >= maxRemembered {
		clear(b.styles)
	}
	b.styles[p] = ch.CSS
}

// Stylesheet returns CSS this instance referenced, or that the tenant's
// live version renders to (a page rendered by another instance).
func (b *Chrome) Stylesheet(tenant, name string) ([]byte, bool) {
	p := stylesPath + tenant + "/" + name
	b.mu.Lock()
	css, ok := b.styles[p]
	b.mu.Unlock()
	if ok {
		return css, true
	}
	// The CSS does not depend on the locale.
	if v, ok := b.Live.Get(tenant); ok {
		if ch := b.approved(tenant, v, render.LocaleEN); ch.StylesheetPath() == p {
			return ch.CSS, true
		}
	}
	// The default chrome (forPage) rendered by another instance.
	if ch := b.forPage(tenant, nil, render.LocaleEN); ch.StylesheetPath() == p {
		return ch.CSS, true
	}
	return nil, false
}

// forPage returns the chrome of one of Livery's own pages on a tenant's
// console host: the staff member's preview when one is active, else the
// live version, else the default chrome of an empty document (version 0:
// the partner's name instead of a logo), so the page still carries the
// tenant's name. It does no I/O.
func (b *Chrome) forPage(tenant string, pv *preview.Preview, locale string) *render.Chrome {
	if pv != nil && pv.Tenant == tenant {
		return b.preview(pv, locale)
	}
	if v, ok := b.Live.Get(tenant); ok {
		return b.approved(tenant, v, locale)
	}
	return b.cache.Get(render.Key{Tenant: tenant, Version: 0, Locale: locale}, time.Now(), func() *render.Chrome {
		ch := render.Render(tenant, 0, nil, locale, b.Upstream, render.RenderOptions{PartnerName: b.name(tenant, locale)})
		b.remember(ch)
		return ch
	})
}
