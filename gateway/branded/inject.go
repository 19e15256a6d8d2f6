// Package branded is the branding door on the console: it injects each
// tenant's approved (or previewed) chrome into the console's HTML pages,
// serves the logos and stylesheets under /_livery/, and answers the
// language switch.
package branded

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/valyala/fasthttp"

	"github.com/livery/livery/branding/inject"
	"github.com/livery/livery/gateway/exchange"
)

// ChromeProvider decides what to inject into one HTML document.
type ChromeProvider interface {
	// Chrome returns the fragments for the document requested by out and
	// the response's Content-Security-Policy values adjusted so that the
	// fragments render under them. ok=false leaves the response untouched.
	// It must not block on I/O in steady state.
	Chrome(out *exchange.Outbound, csp []string) (f inject.Fragments, newCSP []string, ok bool)
}

// sniffLen is how much of a document is peeked at to decide its charset.
const sniffLen = 1024

// documentRequest asks the upstream for identity encoding on requests that
// can return an HTML document, so injection does not have to decode. It is
// a RewriteFunc.
func documentRequest(out *exchange.Outbound) error {
	if out.Header.IsGet() && acceptsHTML(string(out.Header.Peek("Accept"))) && len(out.Header.Peek("Range")) == 0 {
		out.Header.Set("Accept-Encoding", "identity")
	}
	return nil
}

func acceptsHTML(accept string) bool {
	return accept == "" || strings.Contains(accept, "text/html") || strings.Contains(accept, "*/*")
}

// injectBranding returns the ModifyResponseFunc that streams the chrome
// into HTML documents: GET, 200, text/html, not a download, not a range,
// not an event stream, and only in an ASCII-compatible charset. Encoded
// bodies (gzip, deflate, br) are decoded and sent identity-encoded.
// Content-Length, ETag and Content-MD5 of a modified response are dropped.
// Everything else passes through byte-identical. A body it cannot decode
// is passed through untouched; the one failure is a document of known
// small length whose body the upstream cuts short (see injectWhole),
// answered 502 before anything was sent.
func injectBranding(p ChromeProvider) exchange.ModifyResponseFunc {
	return func(resp *exchange.Response) error {
		if !injectable(resp) {
			return nil
		}
		body, decoded := decodeBody(resp)
		if body == nil {
			return nil // unknown or broken encoding: leave it alone
		}
		if !decoded && resp.ContentLength > 0 && resp.ContentLength <= wholeDocumentMax {
			return injectWhole(p, resp)
		}
		// Sniff what the first read brings (never wait for more: the
		// upstream may be streaming the page slowly).
		rc := newSniffBody(body)
		_, _ = rc.Peek(1)
		sniff, _ := rc.Peek(min(rc.Buffered(), sniffLen))
		f, csp, ok := chromeFor(p, resp, sniff)
		if !ok {
			passThrough(resp, rc, decoded)
			return nil
		}
		brandHeaders(resp.Header, csp)
		if resp.ContentLength < 0 || decoded {
			// Possibly progressive: every read's bytes move on at once.
			setBody(resp, inject.NewReadCloser(rc, f), decoded)
			return nil
		}
		// A body of known length is complete at the upstream: reading
		// ahead to the <body> tag (bounded) gives the output's exact
		// length, so the page leaves with a Content-Length in as few
		// writes as the server's buffer allows instead of one flushed
		// chunk per read.
		sized, n := inject.Sized(rc, resp.ContentLength, f, 0)
		var out io.Reader = sized
		if n < 0 {
			out = fullReads{sized} // undecided within the bound: chunked, but in full reads
		}
		setBody(resp, readCloser{out, closers{sized, rc}}, false)
		resp.ContentLength = n
		return nil
	}
}

// wholeDocumentMax bounds the documents read whole. A document with a
// Content-Length is complete at the upstream, so reading it never waits on
// a slowly streamed page; up to this size (the bound of inject.Sized's
// read-ahead, so no more is held than the streaming path would hold) it is
// read into one pooled buffer and sent as the page and the fragments in
// pieces, without a chain of streaming readers. Larger documents stream.
const wholeDocumentMax = inject.MaxSizedPrefix

// pagePool holds the buffers whole documents are read into.
var pagePool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// injectWhole brands a document of known length up to wholeDocumentMax.
// A body shorter than its Content-Length (or failing) is an error before
// anything was sent, answered 502 rather than as a truncated page. A
// document that is not ASCII-compatible, that the provider declines or
// that has no <body> start tag leaves byte-identical, headers untouched.
func injectWhole(p ChromeProvider, resp *exchange.Response) error {
	n := int(resp.ContentLength)
	pb := pagePool.Get().(*[]byte)
	if cap(*pb) < n {
		*pb = make([]byte, 0, n)
	}
	page := (*pb)[:n]
	if _, err := io.ReadFull(resp.Body, page); err != nil {
		pagePool.Put(pb)
		return fmt.Errorf("%w: reading the %d-byte document: %w", exchange.ErrUpstreamBody, n, err)
	}
	body := &wholeBody{pb: pb, src: resp.Body, parts: net.Buffers{page}}
	resp.Body = body
	f, csp, ok := chromeFor(p, resp, page[:min(n, sniffLen)])
	if !ok {
		return nil
	}
	at, ok := inject.Points(page, f)
	if !ok {
		return nil
	}
	brandHeaders(resp.Header, csp)
	dropValidators(resp.Header)
	body.parts = at.Pieces(page, f)
	resp.ContentLength = int64(n + at.Added(f))
	return nil
}

// wholeBody is a document held in a pooled buffer, sent in parts; Close
// closes the upstream body and returns the buffer. It must not be read
// after Close.
type wholeBody struct {
	pb    *[]byte
	src   io.Closer
	parts net.Buffers
}

func (w *wholeBody) Read(p []byte) (int, error) {
	if w.pb == nil {
		return 0, io.ErrClosedPipe
	}
	return w.parts.Read(p)
}

// Pieces returns the document's parts in order (for the proxy to send
// them without reading); it must be called before any Read.
func (w *wholeBody) Pieces() [][]byte { return w.parts }

func (w *wholeBody) Close() error {
	if w.pb == nil {
		return nil
	}
	err := w.src.Close()
	*w.pb = (*w.pb)[:0]
	pagePool.Put(w.pb)
	w.pb, w.parts = nil, nil
	return err
}

// chromeFor decides whether a document is branded, from the start of its
// body (sniff): only in an ASCII-compatible charset, and only when the
// provider has chrome for it. It returns the fragments and the adjusted
// Content-Security-Policy values.
func chromeFor(p ChromeProvider, resp *exchange.Response, sniff []byte) (inject.Fragments, []string, bool) {
	if !inject.ASCIICompatible(string(resp.Header.ContentType()), sniff) {
		return inject.Fragments{}, nil, false
	}
	return p.Chrome(resp.Out, headerValues(resp.Header, "Content-Security-Policy"))
}

// brandHeaders sets the headers of a branded document: the adjusted
// Content-Security-Policy values (none when the response had none) and
// Vary: Accept-Language (the chrome's language follows it).
func brandHeaders(h *fasthttp.ResponseHeader, csp []string) {
	if len(csp) > 0 {
		h.Del("Content-Security-Policy")
		for _, v := range csp {
			h.Add("Content-Security-Policy", v)
		}
	}
	h.Add("Vary", "Accept-Language")
}

// dropValidators removes the validators that describe the upstream's
// bytes, not the modified body.
func dropValidators(h *fasthttp.ResponseHeader) {
	h.Del("ETag")
	h.Del("Content-MD5")
}

// passThrough sends a document uninjected: as the upstream sent it, or
// decoded (then its length and validators no longer apply).
func passThrough(resp *exchange.Response, rc io.ReadCloser, decoded bool) {
	if decoded {
		setBody(resp, rc, true)
	} else {
		resp.Body = rc
	}
}

// headerValues returns every value of a response header.
func headerValues(h *fasthttp.ResponseHeader, name string) []string {
	var out []string
	for _, v := range h.PeekAll(name) {
		out = append(out, string(v))
	}
	return out
}

// setBody installs a body of unknown length that no longer matches the
// upstream's validators (or encoding, when decoded).
func setBody(resp *exchange.Response, rc io.ReadCloser, decoded bool) {
	resp.Body = rc
	resp.ContentLength = -1
	dropValidators(resp.Header)
	if decoded {
		resp.Header.Del("Content-Encoding")
	}
}

func injectable(resp *exchange.Response) bool {
	if !resp.Out.Header.IsGet() || resp.StatusCode != http.StatusOK {
		return false
	}
	h := resp.Header
	if len(h.Peek("Content-Range")) != 0 || len(h.PeekAll("Content-Encoding")) > 1 {
		return false
	}
	if !mediaTypeIs(h.ContentType(), "text/html") {
		return false
	}
	if cd := h.Peek("Content-Disposition"); len(cd) != 0 {
		if d, _, err := mime.ParseMediaType(string(cd)); err != nil || d != "inline" {
			return false // a download
		}
	}
	return true
}

// mediaTypeIs reports whether a Content-Type value's media type (before
// any parameters) is mt, ignoring case and surrounding spaces.
func mediaTypeIs(v []byte, mt string) bool {
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.EqualFold(string(bytes.TrimSpace(v)), mt)
}

// decodeBody returns the decoded body and whether decoding happened; nil
// for an encoding it does not know or a body that does not start as one.
func decodeBody(resp *exchange.Response) (io.ReadCloser, bool) {
	switch enc := strings.ToLower(strings.TrimSpace(string(resp.Header.Peek("Content-Encoding")))); enc {
	case "", "identity":
		return resp.Body, false
	case "gzip", "x-gzip":
		br := bufio.NewReader(resp.Body)
		resp.Body = readCloser{br, resp.Body} // peeked bytes stay readable
		if magic, err := br.Peek(2); err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
			return nil, false
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, false
		}
		return readCloser{zr, resp.Body}, true
	case "deflate":
		// HTTP "deflate" is zlib; some servers send raw DEFLATE.
		br := bufio.NewReader(resp.Body)
		if hdr, err := br.Peek(2); err == nil && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 && hdr[0]&0x0f == 8 {
			zr, err := zlib.NewReader(br)
			if err == nil {
				return readCloser{zr, resp.Body}, true
			}
		}
		return readCloser{flate.NewReader(br), resp.Body}, true
	case "br":
		return readCloser{brotli.NewReader(resp.Body), resp.Body}, true
	}
	return nil, false
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// Buffered reports how many bytes can be read without waiting (when the
// reader is buffered), so the injector can coalesce its output.
func (r readCloser) Buffered() int {
	if b, ok := r.Reader.(interface{ Buffered() int }); ok {
		return b.Buffered()
	}
	return 0
}

// sniffPool holds the buffered readers documents are sniffed through.
var sniffPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// sniffBody is a document body read through a pooled buffer; Close closes
// the body and returns the buffer. It must not be read after Close.
type sniffBody struct {
	*bufio.Reader
	body io.Closer
}

func newSniffBody(body io.ReadCloser) *sniffBody {
	br := sniffPool.Get().(*bufio.Reader)
	br.Reset(body)
	return &sniffBody{br, body}
}

func (s *sniffBody) Close() error {
	if s.Reader == nil {
		return nil
	}
	err := s.body.Close()
	s.Reader.Reset(nil)
	sniffPool.Put(s.Reader)
	s.Reader = nil
	return err
}

// closers closes each in turn and returns the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// fullReads makes every Read fill p unless the source ends or fails.
type fullReads struct{ io.Reader }

func (r fullReads) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Reader.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
	}
	return n, nil
}
