package render

import "testing"

func TestLocale(t *testing.T) {
	for _, tc := range []struct{ accept, cookie, want string }{
		{"", "", "en"},
		{"", "zh", "zh"},
		{"", " ZH ", "zh"},
		{"zh-CN,zh;q=0.9", "en", "en"}, // the cookie wins
		{"en", "zh", "zh"},
		{"zh-CN,zh;q=0.9", "fr", "zh"}, // unknown cookie values are ignored
		{"zh", "", "zh"},
		{"zh-CN", "", "zh"},
		{"zh-Hans-CN", "", "zh"},
		{"ZH-tw", "", "zh"},
		{"zh-HK;q=0.8, en;q=0.5", "", "zh"},
		{"en-US,en;q=0.9,zh-CN;q=0.8", "", "en"},
		{"en;q=0.5, zh;q=0.8", "", "zh"},
		{"zh;q=0.5, en", "", "en"},
		{"fr-FR, fr;q=0.9, zh;q=0.3", "", "zh"}, // best supported
		{"fr-FR, de", "", "en"},
		{"zh;q=0", "", "en"},             // q=0: not acceptable
		{"zh;q=0.000, en;q=0", "", "en"}, // both refused: default
		{"zh;q=abc", "", "en"},           // malformed q: ignored
		{"zh;q=1.5", "", "en"},
		{"zh;q=-1", "", "en"},
		{"zh ; Q = 0.7 , en ; q=0.6", "", "zh"},
		{"zh;level=1", "", "zh"},
		{"*", "", "en"},
		{"*, zh;q=0.1", "", "zh"},
		{"zhx, enx", "", "en"},                        // not zh/en subtags
		{"zh;q=0.5, zh-CN;q=0.5, en;q=0.5", "", "zh"}, // ties: first wins
		{"en;q=0.5, zh;q=0.5", "", "en"},
		{",,,;;;==", "", "en"},
	} {
		if got := Locale(tc.accept, tc.cookie); got != tc.want {
			t.Errorf("Locale(%q, %q) = %q, want %q", tc.accept, tc.cookie, got, tc.want)
		}
	}
}

func TestLocaleBounded(t *testing.T) {
	long := ""
	for range maxLanguageRanges {
		long += "fr,"
	}
	if got := Locale(long+"zh", ""); got != "en" {
		t.Errorf("ranges past the limit were considered: %q", got)
	}
}

func FuzzLocale(f *testing.F) {
	f.Add("zh-CN,zh;q=0.9", "")
	f.Add("en;q=0.5,zh;q=0.8", "zh")
	f.Fuzz(func(t *testing.T, accept, cookie string) {
		if got := Locale(accept, cookie); got != "zh" && got != "en" {
			t.Fatalf("Locale = %q", got)
		}
	})
}
