package gateway

import (
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/preview"
)

// BrandingOptions wires branding into both listeners.
type BrandingOptions struct {
	// Chrome decides what each HTML document gets; nil disables injection.
	Chrome branded.ChromeProvider
	// Assets serves logos and stylesheets under /_livery/ on the console
	// listener; nil disables them.
	Assets branded.AssetSource
	// Workflow, with Options.Admin set, mounts the branding admin API: the
	// admin door's Drafts, Submissions, Reviews and History.
	Workflow *workflow.Service
	// Preview, when set, enables branding preview for staff.
	Preview *preview.Options
	// CookieSecure marks the language cookie Secure (outside plain-HTTP
	// development).
	CookieSecure bool
}
