package console_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	democonsole "github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/gateway/gatewaytest"
)

const streamSize = 50 << 20

// heapWatcher samples the live heap while a transfer runs and reports the
// peak growth over the baseline.
type heapWatcher struct {
	base uint64
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func watchHeap() *heapWatcher {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := &heapWatcher{base: ms.HeapAlloc, stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > w.peak.Load() {
					w.peak.Store(ms.HeapAlloc)
				}
			}
		}
	}()
	return w
}

func (w *heapWatcher) growth() uint64 {
	close(w.stop)
	w.wg.Wait()
	if p := w.peak.Load(); p > w.base {
		return p - w.base
	}
	return 0
}

// patternReader yields size bytes of the demo console's download pattern.
type patternReader struct{ off, size int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if rest := r.size - r.off; n > rest {
		n = rest
	}
	for i := int64(0); i < n; i++ {
		p[i] = democonsole.PatternByte(r.off + i)
	}
	r.off += n
	return int(n), nil
}

func TestStreaming50MBDownloadBoundedHeap(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	w := watchHeap()
	resp, err := http.Get(g.ConsoleURL + fmt.Sprintf("/download?size=%d", streamSize))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != streamSize {
		t.Fatalf("Content-Length %d", resp.ContentLength)
	}
	buf := make([]byte, 32<<10)
	var off int64
	for {
		n, err := resp.Body.Read(buf)
		for i := 0; i < n; i++ {
			if buf[i] != democonsole.PatternByte(off+int64(i)) {
				t.Fatalf("byte %d corrupted", off+int64(i))
			}
		}
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	growth := w.growth()
	t.Logf("50 MB download: heap growth %.1f MB", float64(growth)/(1<<20))
	if off != streamSize {
		t.Fatalf("got %d bytes", off)
	}
	if growth > 16<<20 {
		t.Fatalf("heap grew %d bytes while streaming 50 MB: the body is being buffered", growth)
	}
}

func TestStreaming50MBUploadBoundedHeap(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	want := sha256.New()
	io.Copy(want, &patternReader{size: streamSize})
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			w := watchHeap()
			req := gatewaytest.NewRequest(t, "POST", g.ConsoleURL+"/upload", &patternReader{size: streamSize})
			req.ContentLength = streamSize
			if chunked {
				req.ContentLength = -1
			}
			resp, body := gatewaytest.Do(t, req)
			growth := w.growth()
			t.Logf("50 MB upload (chunked=%v): heap growth %.1f MB", chunked, float64(growth)/(1<<20))
			var got struct {
				Bytes  int64  `json:"bytes"`
				SHA256 string `json:"sha256"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%d %s %v", resp.StatusCode, body, err)
			}
			if got.Bytes != streamSize || got.SHA256 != hex.EncodeToString(want.Sum(nil)) {
				t.Fatalf("upstream received %d bytes sha %s", got.Bytes, got.SHA256)
			}
			if growth > 16<<20 {
				t.Fatalf("heap grew %d bytes while streaming a 50 MB upload", growth)
			}
		})
	}
}

// TestClientGoneIsNotAServerError cuts an upload half way: the exchange is
// recorded as a client abort (499), never as a 5xx or an upstream error.
func TestClientGoneIsNotAServerError(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.ConsoleURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", 4<<20)
	conn.Write(make([]byte, 512<<10))
	time.Sleep(100 * time.Millisecond)
	conn.Close()

	deadline := time.Now().Add(5 * time.Second)
	for {
		m := g.MetricsText(t)
		if strings.Contains(m, `livery_client_aborts_total{listener="console",tenant="demo"} 1`) {
			if strings.Contains(m, `class="5xx"`) || strings.Contains(m, "livery_upstream_errors_total{") {
				t.Fatalf("client abort counted as a server error:\n%s", gatewaytest.Grep(m, "livery_"))
			}
			if !strings.Contains(m, `livery_http_requests_total{class="499",listener="console",tenant="demo"} 1`) {
				t.Fatalf("abort not recorded as 499:\n%s", gatewaytest.Grep(m, "livery_http_requests_total"))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("client abort never recorded:\n%s", gatewaytest.Grep(m, "livery_"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
