package branded

import "testing"

func TestMediaTypeIs(t *testing.T) {
	for v, want := range map[string]bool{
		"text/html": true, "text/html; charset=utf-8": true, " Text/HTML ;charset=gbk": true, "TEXT/HTML": true,
		"text/htmlx": false, "text/plain": false, "": false, "text/html-fragment; a=b": false, "application/xhtml+xml": false,
	} {
		if got := mediaTypeIs([]byte(v), "text/html"); got != want {
			t.Errorf("mediaTypeIs(%q) = %v, want %v", v, got, want)
		}
	}
}
