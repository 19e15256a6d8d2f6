// Package inject inserts HTML fragments (the partner's branding chrome) into
// an HTML document in one streaming pass with bounded memory.
//
// Insertion points: Fragments.Head goes right after the first real <head ...>
// start tag, Fragments.Body right after the first real <body ...> start tag.
// Tags inside comments, bogus comments (<!DOCTYPE>, <![CDATA[...>), raw-text
// elements (<script>, <style>, <title>, <textarea>, ...) and <template> are not
// matched, tag names are case-insensitive, and quoted attribute values may
// contain '>'.
//
// A document without a <body> start tag is passed through byte-identical:
// nothing is injected, not even the head fragment. Because the decision to
// inject the head fragment can only be made once <body> is seen, the bytes
// between <head ...> and <body ...> are held back, up to MaxHeadHold bytes. If
// <body> ends more than MaxHeadHold bytes after <head> (or there is no <head>
// at all), the head fragment is inserted immediately before the body fragment
// instead, so each fragment is always inserted exactly once or not at all.
//
// Fragments.Title goes right before the end tag of the first <title>
// element that follows the <head> start tag (not one inside <template>),
// and only when that title lies in the held-back head section: the page
// has a <head> start tag and its <body> is injected within MaxHeadHold
// bytes. Otherwise (no title, no <head>, a head too long to hold, no
// <body>) the title fragment is left out and the page's title is
// untouched. The caller escapes it as text (it lands inside an RCDATA
// element, where only "</title" would end it).
package inject

import (
	"bytes"
	"io"
)

// MaxHeadHold is the largest number of bytes held back between the end of the
// <head> start tag and the end of the <body> start tag (see package doc).
const MaxHeadHold = 512 << 10

// Fragments to insert. Head goes right after the <head ...> start tag (or, if
// there is no <head>, immediately before the body fragment); Body goes right
// after the <body ...> start tag; Title, when set, right before the first
// </title> of the head section (see the package doc). The slices are not
// copied and must not be modified while a reader using them is live.
type Fragments struct{ Head, Body, Title []byte }

var indexByte = bytes.IndexByte

// NewReader returns a reader yielding src with the fragments inserted, in one
// streaming pass with bounded memory (at most MaxHeadHold plus one read's
// worth of bytes are buffered). If no <body> start tag is found the output is
// byte-identical to the input. Errors from src (including io.EOF) are
// returned after all bytes read before them.
func NewReader(src io.Reader, f Fragments) io.Reader {
	return newReader(src, f, MaxHeadHold)
}

// NewReadCloser is NewReader for an http.Response body: Close closes rc.
func NewReadCloser(rc io.ReadCloser, f Fragments) io.ReadCloser {
	return struct {
		io.Reader
		io.Closer
	}{newReader(rc, f, MaxHeadHold), rc}
}

// Transform is NewReader over a byte slice. It returns src itself (not a
// copy) when nothing is injected.
func Transform(src []byte, f Fragments) []byte { return transform(src, f, MaxHeadHold) }

func transform(src []byte, f Fragments, limit int) []byte {
	at, ok := points(src, f, limit)
	if !ok {
		return src
	}
	out := make([]byte, 0, len(src)+len(f.Head)+len(f.Title)+len(f.Body))
	for _, p := range at.Pieces(src, f) {
		out = append(out, p...)
	}
	return out
}

// At is where the fragments go in a whole document: Head and Body are
// offsets into it, Title is the offset of the </title> end tag the title
// fragment precedes, or -1 when the title fragment is left out. Head <=
// Title <= Body when Title >= 0.
type At struct{ Head, Title, Body int }

// Pieces returns the output as slices of src and of f, in order: src[:Head],
// f.Head, then (with a title) src[Head:Title], f.Title, src[Title:Body],
// then f.Body and src[Body:].
func (a At) Pieces(src []byte, f Fragments) [][]byte {
	if a.Title < 0 {
		return [][]byte{src[:a.Head], f.Head, src[a.Head:a.Body], f.Body, src[a.Body:]}
	}
	return [][]byte{src[:a.Head], f.Head, src[a.Head:a.Title], f.Title, src[a.Title:a.Body], f.Body, src[a.Body:]}
}

// Added is the number of bytes the fragments add at these points.
func (a At) Added(f Fragments) int {
	n := len(f.Head) + len(f.Body)
	if a.Title >= 0 {
		n += len(f.Title)
	}
	return n
}

// Points returns where NewReader would insert the fragments into the
// whole document src (At.Pieces assembles the output). ok is false when
// src has no <body> start tag (the output is then src unchanged). It lets
// a caller holding the document send it in pieces without building the
// output.
func Points(src []byte, f Fragments) (at At, ok bool) {
	return points(src, f, MaxHeadHold)
}

func points(src []byte, f Fragments, limit int) (At, bool) {
	s := newScanner(f)
	hpos, tpos, off := -1, -1, 0
	for off < len(src) {
		k, ev := s.scan(src[off:])
		off += k
		switch ev {
		case evHead:
			hpos = off
		case evTitle:
			tpos = off - titleEndLen
		case evBody:
			if hpos >= 0 && off-hpos <= limit {
				return At{Head: hpos, Title: tpos, Body: off}, true
			}
			return At{Head: off, Title: -1, Body: off}, true
		}
	}
	return At{}, false
}

func newScanner(f Fragments) scanner {
	return scanner{wantHead: len(f.Head) > 0 || len(f.Title) > 0, wantTitle: len(f.Title) > 0}
}

type reader struct {
	src     io.Reader
	f       Fragments
	sc      scanner
	limit   int
	out     [][]byte // ready output, emitted before anything else
	carry   []byte   // input read but not yet scanned
	hold    []byte   // scanned bytes after <head>, awaiting the <body> decision
	holding bool
	titleAt int   // offset in hold of the </title> the title fragment precedes, or -1
	titled  bool  // the title fragment was emitted
	done    bool  // body injected (or given up): pass the rest through
	err     error // sticky error from src
}

func newReader(src io.Reader, f Fragments, limit int) *reader {
	return &reader{src: src, f: f, limit: limit, sc: newScanner(f), titleAt: -1}
}

// added is the number of fragment bytes emitted (once done).
func (r *reader) added() int {
	n := len(r.f.Head) + len(r.f.Body)
	if r.titled {
		n += len(r.f.Title)
	}
	return n
}

func (r *reader) push(b []byte) {
	if len(b) > 0 {
		r.out = append(r.out, b)
	}
}

// stopHolding emits the held bytes verbatim (the title fragment is left
// out: the <body> decision is not made yet, or went against injecting).
func (r *reader) stopHolding() {
	r.push(r.hold)
	r.hold, r.holding, r.titleAt = nil, false, -1
}

func (r *reader) event(ev event) {
	switch ev {
	case evHead:
		r.holding = true
		r.hold = make([]byte, 0, min(4<<10, r.limit))
	case evTitle:
		if r.holding && len(r.hold) >= titleEndLen {
			r.titleAt = len(r.hold) - titleEndLen
		}
	case evBody:
		if r.holding {
			r.push(r.f.Head)
			if r.titleAt >= 0 {
				r.push(r.hold[:r.titleAt])
				r.push(r.f.Title)
				r.push(r.hold[r.titleAt:])
				r.titled = len(r.f.Title) > 0
			} else {
				r.push(r.hold)
			}
			r.hold, r.holding, r.titleAt = nil, false, -1
		} else {
			r.push(r.f.Head)
		}
		r.push(r.f.Body)
		r.done = true
	}
}

// Read fills p with as much output as is available without waiting on
// src: pending fragments and scanned input, and data src has buffered
// (when it has a Buffered() int method, like *bufio.Reader). Small
// documents thus leave in one piece instead of one write per fragment.
func (r *reader) Read(p []byte) (int, error) {
	n, err := r.read(p)
	for err == nil && n > 0 && n < len(p) && r.ready() {
		m, e := r.read(p[n:])
		n, err = n+m, e
		if m == 0 {
			break
		}
	}
	return n, err
}

// ready reports whether read can make progress without blocking on src.
func (r *reader) ready() bool {
	if len(r.out) > 0 || len(r.carry) > 0 {
		return true
	}
	if r.err != nil {
		return r.holding // the held bytes are emitted at EOF
	}
	b, ok := r.src.(interface{ Buffered() int })
	return ok && b.Buffered() > 0
}

func (r *reader) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if len(r.out) > 0 {
			n := copy(p, r.out[0])
			if n == len(r.out[0]) {
				r.out[0] = nil
				r.out = r.out[1:]
			} else {
				r.out[0] = r.out[0][n:]
			}
			return n, nil
		}
		if r.done {
			if len(r.carry) > 0 {
				n := copy(p, r.carry)
				r.carry = r.carry[n:]
				return n, nil
			}
			if r.err != nil {
				return 0, r.err
			}
			return r.src.Read(p)
		}
		if r.holding && len(r.hold) >= r.limit {
			r.stopHolding() // <body> is too far away: head fragment goes with the body one
			continue
		}
		if len(r.carry) > 0 {
			in := r.carry
			if r.holding {
				in = in[:min(len(in), r.limit-len(r.hold))]
			}
			k, ev := r.sc.scan(in)
			if r.holding {
				r.hold = append(r.hold, in[:k]...)
			} else {
				r.push(in[:k])
			}
			r.carry = r.carry[k:]
			r.event(ev)
			continue
		}
		if r.err != nil {
			if r.holding {
				r.stopHolding() // EOF without <body>: emit verbatim
				continue
			}
			return 0, r.err
		}
		if r.holding {
			r.readHold()
			continue
		}
		n, err := r.src.Read(p)
		r.err = err
		k, ev := r.sc.scan(p[:n])
		if ev == evNone {
			if n == 0 && err == nil {
				return 0, nil
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		r.carry = bytes.Clone(p[k:n])
		r.event(ev)
		if k > 0 {
			return k, nil
		}
	}
}

// readHold reads from src directly into the spare capacity of the hold buffer.
func (r *reader) readHold() {
	if len(r.hold) == cap(r.hold) {
		r.hold = append(r.hold, make([]byte, min(cap(r.hold), r.limit-len(r.hold)))...)[:len(r.hold)]
	}
	l := len(r.hold)
	n, err := r.src.Read(r.hold[l:min(cap(r.hold), r.limit)])
	r.err = err
	seg := r.hold[l : l+n]
	k, ev := r.sc.scan(seg)
	if ev != evNone {
		r.carry = bytes.Clone(seg[k:])
	}
	r.hold = r.hold[:l+k]
	r.event(ev)
}
