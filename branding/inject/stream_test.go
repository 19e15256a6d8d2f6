package inject

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

// FuzzInject checks, for arbitrary input and chunking: no panic; the reader
// and Transform agree; with no injection the output is the input; with an
// injection each fragment appears exactly once, removing them gives back the
// input, and the body fragment follows a "<body" start tag's '>'.
func FuzzInject(f *testing.F) {
	for _, tc := range goldens {
		f.Add([]byte(tc.in), uint16(7), uint16(1000))
	}
	f.Add(consolePage(2<<10), uint16(1), uint16(40))
	f.Fuzz(func(t *testing.T, in []byte, chunk, limit uint16) {
		fr := Fragments{Head: []byte("\x01HEAD\x02"), Body: []byte("\x01BODY\x02"), Title: []byte("\x01TITLE\x02")}
		if bytes.Contains(in, []byte{1}) {
			t.Skip()
		}
		lim := int(limit%2048) + 1
		want := transform(in, fr, lim)
		got, err := io.ReadAll(newReader(smallReads{bytes.NewReader(in), int(chunk%64) + 1}, fr, lim))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("reader/transform mismatch: %q vs %q (%v)", got, want, err)
		}
		got, _ = io.ReadAll(iotest.OneByteReader(newReader(iotest.HalfReader(bytes.NewReader(in)), fr, lim)))
		if !bytes.Equal(got, want) {
			t.Fatalf("onebyte/half mismatch: %q vs %q", got, want)
		}
		// A buffered source lets Read coalesce output (Buffered() > 0).
		got, err = io.ReadAll(newReader(bufio.NewReaderSize(smallReads{bytes.NewReader(in), int(chunk%64) + 1}, 16), fr, lim))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("buffered source mismatch: %q vs %q (%v)", got, want, err)
		}
		// Sized yields the same bytes and, when it commits to a length,
		// the right one; it may only give up when the output is longer
		// than its read-ahead bound.
		ahead := int(chunk%256) + 1
		sr, size := sized(newReader(smallReads{bytes.NewReader(in), int(chunk%64) + 1}, fr, lim), int64(len(in)), ahead)
		got, err = io.ReadAll(sr)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("sized mismatch: %q vs %q (%v)", got, want, err)
		}
		if size != int64(len(want)) && (size != -1 || len(want) < ahead) {
			t.Fatalf("sized length %d, output %d bytes (read-ahead %d)", size, len(want), ahead)
		}
		// The title fragment, when present, is once between the head and
		// body fragments, right before a </title.
		if ti := bytes.Index(want, fr.Title); ti >= 0 {
			hi, bi := bytes.Index(want, fr.Head), bytes.Index(want, fr.Body)
			if bytes.Count(want, fr.Title) != 1 || ti < hi || ti > bi ||
				!bytes.HasPrefix(bytes.ToLower(want[ti+len(fr.Title):]), []byte("</title")) {
				t.Fatalf("title fragment misplaced: %q", want)
			}
			want = bytes.Replace(want, fr.Title, nil, 1)
		}
		hi, bi := bytes.Index(want, fr.Head), bytes.Index(want, fr.Body)
		if hi < 0 && bi < 0 {
			if !bytes.Equal(want, in) {
				t.Fatalf("no injection but output differs")
			}
			return
		}
		if hi < 0 || bi < 0 || hi > bi || bytes.Count(want, fr.Head) != 1 || bytes.Count(want, fr.Body) != 1 {
			t.Fatalf("fragments not inserted exactly once in order: %q", want)
		}
		stripped := bytes.Replace(bytes.Replace(want, fr.Head, nil, 1), fr.Body, nil, 1)
		if !bytes.Equal(stripped, in) {
			t.Fatalf("output minus fragments != input")
		}
		before := bytes.ToLower(bytes.ReplaceAll(want[:bi], fr.Head, nil))
		if !bytes.HasSuffix(before, []byte(">")) || bytes.LastIndex(before, []byte("<body")) < 0 {
			t.Fatalf("body fragment not after a <body> tag: %q", want)
		}
		if hi+len(fr.Head) != bi { // head inserted separately: must follow a <head...> tag
			hb := bytes.ToLower(want[:hi])
			if !bytes.HasSuffix(hb, []byte(">")) || bytes.LastIndex(hb, []byte("<head")) < 0 {
				t.Fatalf("head fragment not after a <head> tag: %q", want)
			}
		}
	})
}

// genReader produces size bytes: prefix, then rows repeated, then suffix.
type genReader struct {
	prefix, row, suffix []byte
	size, pos           int64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.pos >= g.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.pos < g.size {
		var src []byte
		var off int64
		switch body := g.size - int64(len(g.suffix)); {
		case g.pos < int64(len(g.prefix)):
			src, off = g.prefix, g.pos
		case g.pos >= body:
			src, off = g.suffix, g.pos-body
		default:
			src, off = g.row, (g.pos-int64(len(g.prefix)))%int64(len(g.row))
		}
		c := copy(p[n:], src[off:])
		if rem := g.size - g.pos; int64(c) > rem {
			c = int(rem)
		}
		n += c
		g.pos += int64(c)
	}
	return n, nil
}

// TestBoundedMemory streams a large document through NewReader with small
// reads and checks that the heap does not grow with the document.
func TestBoundedMemory(t *testing.T) {
	size := int64(256 << 20)
	if testing.Short() || raceEnabled {
		size = 48 << 20
	}
	row := []byte(`<div class="r"><span title="a>b">资源</span><!-- c --><script>var x="<body>"</script></div>` + "\n")
	for _, tc := range []struct {
		name           string
		prefix, suffix string
	}{
		{"no body (full scan)", "<!doctype html><html><head>", "</html>"},
		{"huge head then body", "<!doctype html><html><head>", "<body>end"},
		{"body early", "<html><head></head><body>", "</body></html>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &genReader{prefix: []byte(tc.prefix), row: row, suffix: []byte(tc.suffix), size: size}
			r := NewReader(g, frag)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base, peak := ms.HeapAlloc, ms.HeapAlloc
			buf := make([]byte, 4<<10)
			var total int64
			for i := 0; ; i++ {
				n, err := r.Read(buf)
				total += int64(n)
				if i%4096 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if total < size {
				t.Fatalf("read %d of %d bytes", total, size)
			}
			if growth := int64(peak) - int64(base); growth > 8<<20 {
				t.Fatalf("heap grew by %d bytes streaming %d bytes", growth, size)
			}
		})
	}
}

func benchInject(b *testing.B, page []byte) {
	src := bytes.NewReader(page)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(page)
		if _, err := io.Copy(io.Discard, NewReader(src, frag)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInject(b *testing.B) { benchInject(b, consolePage(100<<10)) }
func BenchmarkInjectNoBody(b *testing.B) {
	benchInject(b, bytes.ReplaceAll(consolePage(100<<10), []byte("<body"), []byte("<bodx")))
}

// BenchmarkInjectLateBody: body start tag at the end, so the whole page is
// tokenized (worst case for the scanner, like NoBody but with an injection).
func BenchmarkInjectLateBody(b *testing.B) {
	p := bytes.ReplaceAll(consolePage(100<<10), []byte("<body"), []byte("<bodx"))
	benchInject(b, append(p, "<body>"...))
}

func BenchmarkTransform(b *testing.B) {
	page := consolePage(100 << 10)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		Transform(page, frag)
	}
}

// TestSized covers the cases where Sized must not commit to a length: a
// source shorter or longer than announced, a failing source, and a body
// start tag beyond the read-ahead bound; and that it commits otherwise. In
// every case it yields exactly what NewReader yields.
func TestSized(t *testing.T) {
	fr := Fragments{Head: []byte("<H>"), Body: []byte("<B>")}
	page := []byte("<!doctype html><html><head><title>x</title></head><body class=a>hello</body></html>")
	late := append(append([]byte("<html>"), bytes.Repeat([]byte("<!-- -->"), 100)...), "<body>x"...)
	boom := errors.New("upstream cut")
	bytesOf := func(b []byte) func() io.Reader { return func() io.Reader { return bytes.NewReader(b) } }
	failing := func(n int) func() io.Reader {
		return func() io.Reader { return io.MultiReader(bytes.NewReader(page[:n]), iotest.ErrReader(boom)) }
	}
	cases := []struct {
		name     string
		src      func() io.Reader
		n        int64
		limit    int
		wantSize int64
		wantErr  error
	}{
		{"injected", bytesOf(page), int64(len(page)), 0, int64(len(page) + 6), nil},
		{"no body: passed through", bytesOf([]byte("plain text")), 10, 0, 10, nil},
		{"no body, short source", bytesOf([]byte("plain text")), 11, 0, -1, nil},
		{"no body, long source", bytesOf([]byte("plain text")), 9, 0, -1, nil},
		{"unknown length", bytesOf(page), -1, 0, -1, nil},
		{"body beyond the bound", bytesOf(late), int64(len(late)), 64, -1, nil},
		{"body within the bound", bytesOf(late), int64(len(late)), 4096, int64(len(late) + 6), nil},
		{"source fails before the body", failing(30), int64(len(page)), 0, -1, boom},
		{"source fails after the body", failing(70), int64(len(page)), 0, int64(len(page) + 6), boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := io.ReadAll(NewReader(tc.src(), fr))
			r, size := Sized(tc.src(), tc.n, fr, tc.limit)
			if size != tc.wantSize {
				t.Fatalf("size = %d, want %d", size, tc.wantSize)
			}
			got, err := io.ReadAll(r)
			if !errors.Is(err, tc.wantErr) || !errors.Is(wantErr, tc.wantErr) {
				t.Fatalf("err = %v (NewReader: %v), want %v", err, wantErr, tc.wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("output %q, NewReader gives %q", got, want)
			}
		})
	}
	if _, size := Sized(iotest.ErrReader(nil), 10, fr, 0); size != -1 {
		t.Fatalf("a source that returns nothing forever: size %d, want -1", size)
	}
	// Read-ahead buffers are pooled: a closed reader's buffer serves the
	// next one, and a live reader's bytes are never shared.
	want := Transform(page, fr)
	a, _ := Sized(iotest.HalfReader(bytes.NewReader(page)), int64(len(page)), fr, 0)
	b, _ := Sized(bytes.NewReader(page), int64(len(page)), fr, 0)
	b.Close()
	c, _ := Sized(bytes.NewReader(late), int64(len(late)), fr, 0)
	for name, r := range map[string]io.Reader{"first": a, "third": c} {
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if name == "first" && !bytes.Equal(got, want) || name == "third" && !bytes.Equal(got, Transform(late, fr)) {
			t.Fatalf("%s reader: %q", name, got)
		}
	}
	if n, err := b.Read(make([]byte, 10)); n != 0 || err == nil {
		t.Fatalf("read after Close: %d, %v", n, err)
	}
}
