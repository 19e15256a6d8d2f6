package gateway_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestUnparsableRequestNotEchoed: a request the server cannot parse is
// answered 400 with a fixed message and a request id; nothing of the raw
// request (cookies included) comes back.
func TestUnparsableRequestNotEchoed(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	for _, raw := range []string{
		"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: livery_session=SECRET-COOKIE-VALUE\r\nBad Header Line\r\n\r\n",
		"GET / HTTP/1.1\r\nCookie: livery_session=SECRET-COOKIE-VALUE\r\nHost: 127.0.0.1\r\nX: \x00\r\n\r\n",
		"G@T / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer SECRET-COOKIE-VALUE\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: livery_session=SECRET-COOKIE-VALUE\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a b\r\nCookie: livery_session=SECRET-COOKIE-VALUE\r\n\r\n",
	} {
		for _, addr := range []string{strings.TrimPrefix(e.ConsoleURL, "http://"), strings.TrimPrefix(e.APIURL, "http://")} {
			conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			conn.Write([]byte(raw))
			var resp strings.Builder
			br := bufio.NewReader(conn)
			for {
				line, err := br.ReadString('\n')
				resp.WriteString(line)
				if err != nil {
					break
				}
			}
			conn.Close()
			out := resp.String()
			if !strings.HasPrefix(out, "HTTP/1.1 400") {
				t.Fatalf("%q on %s: %.200q; want 400", raw, addr, out)
			}
			if strings.Contains(out, "SECRET-COOKIE-VALUE") {
				t.Fatalf("%q on %s: the answer echoes the request: %q", raw, addr, out)
			}
			if !strings.Contains(strings.ToLower(out), "x-request-id: ") || strings.Contains(out, `"request_id":""`) {
				t.Fatalf("%q on %s: no request id: %q", raw, addr, out)
			}
		}
	}
}
