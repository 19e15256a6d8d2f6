package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/livery/livery/branding/inject"
)

// floorCmd serves the "floor" row of bench/run.sh: the least a Go proxy on
// Livery's HTTP stack (a fasthttp server and keep-alive HostClient) does
// to send the same bytes as Livery and nginx — forward the request, ask
// the upstream for identity encoding, insert the captured chrome (with the
// response's CSP nonce) into text/html. It uses the same technique as
// Livery's path for a document of known length (branded.injectWhole and
// console.heldBody): the upstream body is read into a pooled buffer, and
// the page and the fragments go into the server's pooled response buffer
// (headers and body in one writev), without allocating per request. No
// session, authorization, identity assertion, header hygiene, access log,
// metrics or streaming of larger pages: it is a measuring stick for what
// those features cost, not a proxy to deploy.
//
//	setup floor -listen 127.0.0.1:PORT -upstream 127.0.0.1:PORT -capture DIR
func floorCmd(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to serve on")
	upstream := fs.String("upstream", "", "upstream host:port")
	capture := fs.String("capture", "", "directory with chrome_head.html and chrome_body.html (setup prepare -out)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *listen == "" || *upstream == "" || *capture == "" {
		return errors.New("floor: -listen, -upstream and -capture are required")
	}
	head, err := os.ReadFile(filepath.Join(*capture, "chrome_head.html"))
	if err != nil {
		return err
	}
	body, err := os.ReadFile(filepath.Join(*capture, "chrome_body.html"))
	if err != nil {
		return err
	}
	fl := &floor{head: head, body: body, hasNonce: bytes.Contains(append(head[:len(head):len(head)], body...), []byte(NoncePlaceholder)),
		hc: &fasthttp.HostClient{Addr: *upstream, MaxConns: 4096, NoDefaultUserAgentHeader: true,
			StreamResponseBody: true, ReadBufferSize: 64 << 10}}
	fmt.Fprintf(os.Stderr, "floor proxy on %s → %s\n", *listen, *upstream)
	return (&fasthttp.Server{Handler: fl.handle, NoDefaultServerHeader: true}).ListenAndServe(*listen)
}

type floor struct {
	head, body []byte
	hasNonce   bool
	hc         *fasthttp.HostClient
}

var floorPages = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (fl *floor) handle(ctx *fasthttp.RequestCtx) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	ctx.Request.CopyTo(req)
	req.Header.Del("Connection")
	req.Header.Set("Accept-Encoding", "")
	fr := fasthttp.AcquireResponse()
	if err := fl.hc.Do(req, fr); err != nil {
		fasthttp.ReleaseResponse(fr)
		ctx.Error("upstream: "+err.Error(), fasthttp.StatusBadGateway)
		return
	}
	fr.Header.CopyTo(&ctx.Response.Header)
	n := fr.Header.ContentLength()
	html := fr.StatusCode() == fasthttp.StatusOK && bytes.HasPrefix(fr.Header.ContentType(), []byte("text/html"))
	if !html || n <= 0 || n > 64<<10 {
		// Not a document of known small length: pass it through.
		ctx.Response.SetBodyStream(&floorBody{fr: fr, r: bodyOf(fr)}, n)
		return
	}
	pb := floorPages.Get().(*[]byte)
	page := (*pb)[:n]
	if _, err := io.ReadFull(bodyOf(fr), page); err != nil {
		floorPages.Put(pb)
		_ = fr.CloseBodyStream()
		fasthttp.ReleaseResponse(fr)
		ctx.Error("upstream body: "+err.Error(), fasthttp.StatusBadGateway)
		return
	}
	f := inject.Fragments{Head: fl.head, Body: fl.body}
	if fl.hasNonce {
		nonce := []byte(cspNonce(string(fr.Header.Peek("Content-Security-Policy"))))
		f = inject.Fragments{Head: bytes.ReplaceAll(fl.head, []byte(NoncePlaceholder), nonce),
			Body: bytes.ReplaceAll(fl.body, []byte(NoncePlaceholder), nonce)}
	}
	parts := [][]byte{page}
	if at, ok := inject.Points(page, f); ok {
		parts = at.Pieces(page, f)
		ctx.Response.Header.Del("ETag")
	}
	// As Livery sends a document held whole (console.heldBody): into the
	// server's pooled response buffer, headers and body in one write.
	for _, p := range parts {
		ctx.Response.AppendBody(p)
	}
	floorPages.Put(pb)
	_ = fr.CloseBodyStream()
	fasthttp.ReleaseResponse(fr)
}

// floorBody is a response body read from r; Close releases the upstream
// response and the page buffer.
type floorBody struct {
	fr *fasthttp.Response
	pb *[]byte
	r  io.Reader
}

func (b *floorBody) Read(p []byte) (int, error) { return b.r.Read(p) }

// bodyOf is the upstream body: its stream, or the bytes read with the
// headers.
func bodyOf(fr *fasthttp.Response) io.Reader {
	if s := fr.BodyStream(); s != nil {
		return s
	}
	return bytes.NewReader(fr.Body())
}

func (b *floorBody) Close() error {
	if b.fr != nil {
		_ = b.fr.CloseBodyStream() // the connection goes back to the pool
		fasthttp.ReleaseResponse(b.fr)
		b.fr = nil
	}
	if b.pb != nil {
		floorPages.Put(b.pb)
		b.pb = nil
	}
	return nil
}
