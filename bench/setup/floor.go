package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/valyala/fasthttp"

	"github.com/livery/livery/branding/inject"
)

// floorCmd serves the "floor" row of bench/run.sh: the least a Go proxy on
// Livery's HTTP stack (a fasthttp server and keep-alive HostClient) does
// to send the same bytes as Livery and nginx — forward the request, ask
// the upstream for identity encoding, insert the captured chrome (with the
// response's CSP nonce) into text/html with inject.Transform. No session,
// authorization, identity assertion, header hygiene, access log, metrics
// or streaming: it buffers each page. It is a measuring stick for what
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
	placeholder := []byte(NoncePlaceholder)
	hc := &fasthttp.HostClient{Addr: *upstream, MaxConns: 4096, NoDefaultUserAgentHeader: true}
	handler := func(ctx *fasthttp.RequestCtx) {
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		ctx.Request.CopyTo(req)
		req.Header.Del("Connection")
		req.Header.Set("Accept-Encoding", "")
		resp := &ctx.Response
		if err := hc.Do(req, resp); err != nil {
			ctx.Error("upstream: "+err.Error(), fasthttp.StatusBadGateway)
			return
		}
		if resp.StatusCode() != fasthttp.StatusOK || !bytes.HasPrefix(resp.Header.ContentType(), []byte("text/html")) {
			return
		}
		nonce := []byte(cspNonce(string(resp.Header.Peek("Content-Security-Policy"))))
		f := inject.Fragments{Head: bytes.ReplaceAll(head, placeholder, nonce), Body: bytes.ReplaceAll(body, placeholder, nonce)}
		if page := resp.Body(); len(page) > 0 {
			if out := inject.Transform(page, f); len(out) != len(page) {
				resp.SetBody(out)
				resp.Header.Del("ETag")
			}
		}
	}
	fmt.Fprintf(os.Stderr, "floor proxy on %s → %s\n", *listen, *upstream)
	return (&fasthttp.Server{Handler: handler, NoDefaultServerHeader: true}).ListenAndServe(*listen)
}
