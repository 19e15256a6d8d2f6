package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestErrorPageSpeaksBothLanguages: the error page a browser gets names
// the status in Chinese and English, labels the request id in both, and
// takes its lang from the language cookie or Accept-Language.
func TestErrorPageSpeaksBothLanguages(t *testing.T) {
	app := fiber.New(fiber.Config{ErrorHandler: ErrorHandler(slog.New(slog.DiscardHandler), false)})
	app.Use(RequestIDMiddleware)
	app.Get("/x", func(c *fiber.Ctx) error { return Errorf(http.StatusNotFound, "unknown_host", "No console <here>.") })
	for _, c := range []struct{ lang, cookie, want string }{
		{"", "", `lang="en"`}, {"zh-CN,zh;q=0.9", "", `lang="zh"`}, {"zh-CN", "livery_lang=en", `lang="en"`}, {"en", "livery_lang=zh", `lang="zh"`},
	} {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set("Accept", "text/html")
		if c.lang != "" {
			req.Header.Set("Accept-Language", c.lang)
		}
		if c.cookie != "" {
			req.Header.Set("Cookie", c.cookie)
		}
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		page := string(b)
		for _, want := range []string{c.want, "未找到", "Not Found", "请求编号", "Request id", resp.Header.Get("X-Request-Id"), "No console &lt;here&gt;."} {
			if !strings.Contains(page, want) {
				t.Errorf("Accept-Language %q, cookie %q: page lacks %q:\n%s", c.lang, c.cookie, want, page)
			}
		}
	}
}
