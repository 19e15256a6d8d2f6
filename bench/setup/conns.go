package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The connection figures of bench/run.sh --conns (docs/performance.md
// section 5): how much memory the Livery process (the demo, cmd/demo)
// holds per idle keep-alive client connection, and for proxied
// WebSockets. Memory is the process's resident set (VmRSS of
// /proc/PID/status), read before and after, with the connections held
// open and idle.

// rssKB returns VmRSS of process pid in KB.
func rssKB(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// settledRSS waits for the process's RSS to stop moving (three readings
// 500 ms apart within 1%) or 10 s, and returns the last reading.
func settledRSS(pid int) (int, error) {
	var last []int
	for deadline := time.Now().Add(10 * time.Second); ; {
		r, err := rssKB(pid)
		if err != nil {
			return 0, err
		}
		last = append(last, r)
		if n := len(last); n >= 3 {
			lo, hi := min(last[n-1], last[n-2], last[n-3]), max(last[n-1], last[n-2], last[n-3])
			if float64(hi-lo) <= 0.01*float64(hi) || time.Now().After(deadline) {
				return r, nil
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

type connsFlags struct {
	url      string
	pid, n   int
	headers  multiFlag
	parallel int
}

func (f *connsFlags) register(fs *flag.FlagSet, what string) {
	fs.StringVar(&f.url, "url", "", what)
	fs.IntVar(&f.pid, "pid", 0, "the process whose RSS is measured (Livery)")
	fs.IntVar(&f.n, "n", 1000, "connections to hold open")
	fs.IntVar(&f.parallel, "parallel", 64, "connections opened at a time")
	fs.Var(&f.headers, "H", "request header 'Name: value' (repeatable)")
}

func (f *connsFlags) check() error {
	if f.url == "" || f.pid <= 0 || f.n <= 0 || f.parallel <= 0 {
		return errors.New("-url, -pid and a positive -n and -parallel are required")
	}
	return nil
}

// openAll runs open(i) for i in [0,n) with at most parallel at a time and
// returns the first error.
func openAll(n, parallel int, open func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, parallel)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := open(i); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("connection %d: %w", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// report prints the figures as shell assignments (PREFIX_*) and a line on
// stderr.
// measure opens and drops up to warm connections (a warm-up), reads the
// settled RSS, opens all f.n, waits hold and reads it again. drop closes
// connection i of the warm-up.
func (f *connsFlags) measure(what string, warm int, hold time.Duration, open func(i int) error, drop func(i int)) (before, after int, start time.Time, err error) {
	warm = min(f.n, warm)
	if err := openAll(warm, f.parallel, open); err != nil {
		return 0, 0, start, fmt.Errorf("%s warm-up: %w", what, err)
	}
	for i := range warm {
		drop(i)
	}
	time.Sleep(time.Second)
	if before, err = settledRSS(f.pid); err != nil {
		return 0, 0, start, err
	}
	start = time.Now()
	if err := openAll(f.n, f.parallel, open); err != nil {
		return 0, 0, start, fmt.Errorf("%s: %w", what, err)
	}
	time.Sleep(hold)
	after, err = settledRSS(f.pid)
	return before, after, start, err
}

func report(prefix, what string, n, before, after int, start time.Time) {
	per := float64(after-before) / float64(n)
	logf("%s: %d held open in %s; Livery RSS %d KB -> %d KB: +%d KB, %.1f KB per connection",
		what, n, time.Since(start).Round(time.Millisecond), before, after, after-before, per)
	fmt.Printf("%s_N=%d\n%s_RSS_BEFORE_KB=%d\n%s_RSS_AFTER_KB=%d\n%s_KB_PER_CONN=%.1f\n",
		prefix, n, prefix, before, prefix, after, prefix, per)
}

// idleConnsCmd opens -n keep-alive connections to -url, sends one GET on
// each (status 200 or 404 expected, the body read whole), then leaves them
// idle and reports the growth of the process's RSS per connection.
//
//	setup idleconns -url http://127.0.0.1:PORT/path -pid PID -n 10000 [-H 'Cookie: ...']...
func idleConnsCmd(args []string) error {
	fs := flag.NewFlagSet("idleconns", flag.ContinueOnError)
	var f connsFlags
	f.register(fs, "the page each connection requests once")
	hold := fs.Duration("hold", 3*time.Second, "how long the connections stay idle before the reading")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return fmt.Errorf("idleconns: %w", err)
	}
	u, err := url.Parse(f.url)
	if err != nil {
		return err
	}
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/html\r\n", u.RequestURI(), u.Host)
	for _, h := range f.headers {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("\r\n")
	conns := make([]net.Conn, f.n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	open := func(i int) error {
		c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
		if err != nil {
			return err
		}
		conns[i] = c
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.WriteString(c, req.String()); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 && resp.StatusCode != 404 || resp.Close {
			return fmt.Errorf("HTTP %d (close %v): want 200 or 404 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
		return err
	}
	// Warm-up: the pools and the upstream connections a busy server has
	// anyway, on connections closed before the first reading.
	before, after, start, err := f.measure("idleconns", 256, *hold, open, func(i int) { conns[i].Close(); conns[i] = nil })
	if err != nil {
		return err
	}
	// Every connection must still be open (not closed by the server).
	closed := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
			closed++
		}
	}
	if closed > 0 {
		return fmt.Errorf("idleconns: %d of %d connections were closed by the server while idle", closed, f.n)
	}
	report("IDLE", "idle keep-alive connections", f.n, before, after, start)
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// webSocketsCmd opens -n WebSockets through -url (ws://...), exchanges
// one message on each (the demo console's /ws echoes), leaves them idle and
// reports the process's RSS.
//
//	setup websockets -url ws://127.0.0.1:PORT/ws -pid PID -n 2000 [-H 'Cookie: ...']...
func webSocketsCmd(args []string) error {
	fs := flag.NewFlagSet("websockets", flag.ContinueOnError)
	var f connsFlags
	f.register(fs, "the WebSocket URL (ws://)")
	hold := fs.Duration("hold", 3*time.Second, "how long the sockets stay idle before the reading")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return fmt.Errorf("websockets: %w", err)
	}
	hdr := http.Header{}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("bad header %q", h)
		}
		hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	d := websocket.Dialer{HandshakeTimeout: 15 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	socks := make([]*websocket.Conn, f.n)
	defer func() {
		for _, c := range socks {
			if c != nil {
				c.Close()
			}
		}
	}()
	open := func(i int) error {
		c, resp, err := d.Dial(f.url, hdr)
		if err != nil {
			if resp != nil {
				return fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
			}
			return err
		}
		socks[i] = c
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil { // the greeting
			return err
		}
		msg := []byte("ping " + strconv.Itoa(i))
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return err
		}
		_, got, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if string(got) != string(msg) {
			return fmt.Errorf("echo %q, want %q", got, msg)
		}
		return nil
	}
	before, after, start, err := f.measure("websockets", 64, *hold, open, func(i int) { socks[i].Close(); socks[i] = nil })
	if err != nil {
		return err
	}
	// Every tunnel must still carry messages.
	for i, c := range socks {
		if err := c.WriteMessage(websocket.TextMessage, []byte("again")); err != nil {
			return fmt.Errorf("websocket %d after the reading: %w", i, err)
		}
		if _, _, err := c.ReadMessage(); err != nil {
			return fmt.Errorf("websocket %d after the reading: %w", i, err)
		}
	}
	report("WS", "proxied WebSockets", f.n, before, after, start)
	runtime.KeepAlive(socks)
	return nil
}
