package console

import "testing"

func TestWithoutLiveryCookies(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a=1; b=2", "a=1; b=2"},
		{"livery_session=abc", ""},
		{"__Host-livery_session=abc; lang=zh", "lang=zh"},
		{"a=1; livery_login=x; __Host-livery_staff=y; b=2", "a=1; b=2"},
		{"notlivery_x=1;livery_lang=zh", "notlivery_x=1"},
		{" ; a=1 ;; ", " ; a=1 ;; "}, // no Livery cookie: untouched
		{"x=livery_session", "x=livery_session"},
	}
	for _, tt := range tests {
		if got := string(withoutLiveryCookies([]byte(tt.in))); got != tt.want {
			t.Errorf("withoutLiveryCookies(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
