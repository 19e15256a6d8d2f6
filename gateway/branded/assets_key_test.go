package branded_test

import (
	"crypto/sha256"
	"encoding/hex"
	"image/color"
	"net/http"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestAssetCacheKeysSurviveTheRequest: cached assets are keyed by a copy of
// their name, not by bytes of a request buffer that the next request on
// the connection overwrites (which served one logo under another's name).
func TestAssetCacheKeysSurviveTheRequest(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa := e.Token(t, "pa-acme")
	var urls []string
	for _, c := range []color.RGBA{{200, 0, 0, 255}, {0, 0, 200, 255}, {0, 200, 0, 255}} {
		r := e.Upload(t, "acme", pa, gatewaytest.PNGImage(t, c))
		var up struct{ URL string }
		gatewaytest.DecodeJSON(t, r.Body, &up)
		urls = append(urls, up.URL)
	}
	client := &http.Client{} // one keep-alive connection, so one reused request context
	for round := range 3 {
		for _, u := range urls {
			resp, body := gatewaytest.Get(t, client, e.ConsoleURL+u)
			sum := sha256.Sum256([]byte(body))
			if resp.StatusCode != 200 || !strings.Contains(u, hex.EncodeToString(sum[:])) {
				t.Fatalf("round %d: %s answered %d with a body of sha256 %x", round, u, resp.StatusCode, sum)
			}
		}
	}
}
