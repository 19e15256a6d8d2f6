package render

import (
	"strings"
	"testing"
	"time"
)

// TestDelegationBanner: both languages, every text escaped, the switch
// back form posts to the leave path, the remaining time rounds up.
func TestDelegationBanner(t *testing.T) {
	b := Banner{Customer: `<script>x</script>`, Partner: "Acme & Co", Staff: `Pat "Admin"`, Left: 58*time.Minute + time.Second,
		LeavePath: "/_livery/delegate/leave"}
	for _, tc := range []struct{ locale, want string }{
		{LocaleEN, `Operating <strong>&lt;script&gt;x&lt;/script&gt;</strong> for Acme &amp; Co as <strong>Pat &#34;Admin&#34;</strong> · <span class="livery-delegation-left">59 min left`},
		{LocaleZH, `正在以 <strong>Pat &#34;Admin&#34;</strong> 身份代 Acme &amp; Co 运维 <strong>&lt;script&gt;x&lt;/script&gt;</strong> 的控制台 · <span class="livery-delegation-left">剩余 59 分钟`},
	} {
		got := string(DelegationBanner(b, tc.locale))
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: %s\nwant it to contain %s", tc.locale, got, tc.want)
		}
		if strings.Contains(got, "<script>") {
			t.Errorf("%s: unescaped text: %s", tc.locale, got)
		}
		if !strings.Contains(got, `<form method="post" action="/_livery/delegate/leave"><button type="submit" id="livery-delegation-leave">切换角色 / Switch back</button></form>`) {
			t.Errorf("%s: no switch back form: %s", tc.locale, got)
		}
	}
	if got := remaining(90*time.Minute, false); got != "1 h 30 min left" {
		t.Errorf("remaining: %q", got)
	}
}
