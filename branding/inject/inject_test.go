package inject

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

var frag = Fragments{Head: []byte("[H]"), Body: []byte("[B]")}

var goldens = []struct{ name, in, want string }{
	{"basic", "<html><head><title>t</title></head><body><p>x</p></body></html>",
		"<html><head>[H]<title>t</title></head><body>[B]<p>x</p></body></html>"},
	{"upper case", "<HTML><HEAD></HEAD><BODY class=a>x", "<HTML><HEAD>[H]</HEAD><BODY class=a>[B]x"},
	{"mixed case", "<Head lang=en></Head><BoDy>", "<Head lang=en>[H]</Head><BoDy>[B]"},
	{"quoted gt", `<head data-x='a>b'><body data-x="a>b" y=1>z`, `<head data-x='a>b'>[H]<body data-x="a>b" y=1>[B]z`},
	{"quote in attr name is literal", `<body a"b>x`, `<body a"b>[H][B]x`},
	{"equals first attr", `<body ="a>b">`, `<body ="a>[H][B]b">`},
	{"self closing", `<head/><body/>`, `<head/>[H]<body/>[B]`},
	{"newline after name", "<body\n\tclass=\"x\"\n>", "<body\n\tclass=\"x\"\n>[H][B]"},
	{"bodyx not matched", "<bodyx><headline><body>", "<bodyx><headline><body>[H][B]"},
	{"headline is not head", "<headline></headline><head><body>", "<headline></headline><head>[H]<body>[B]"},
	{"comment", "<!-- <head><body> --><head><body>", "<!-- <head><body> --><head>[H]<body>[B]"},
	{"comment with dashes", "<!-- a -- b ---><body>", "<!-- a -- b ---><body>[H][B]"},
	{"abrupt comment", "<!--><body>", "<!--><body>[H][B]"},
	{"comment bang close", "<!-- x --!><body>", "<!-- x --!><body>[H][B]"},
	{"unclosed comment", "<!-- <body>", "<!-- <body>"},
	{"script", `<head><script>var s="<body>";if(a</b){}</script><body>`, `<head>[H]<script>var s="<body>";if(a</b){}</script><body>[B]`},
	{"script end in caps", `<script>x</SCRIPT ><body>`, `<script>x</SCRIPT ><body>[H][B]`},
	{"script end prefix", `<script></scriptx><body></script><body>`, `<script></scriptx><body></script><body>[H][B]`},
	{"style", `<style>a::after{content:"<body>"}</style><body>`, `<style>a::after{content:"<body>"}</style><body>[H][B]`},
	{"title", `<head><title><body></title></head><body>`, `<head>[H]<title><body></title></head><body>[B]`},
	{"textarea", `<textarea><body></textarea><body>`, `<textarea><body></textarea><body>[H][B]`},
	{"noscript", `<noscript><body></noscript><body>`, `<noscript><body></noscript><body>[H][B]`},
	{"template", `<head><template><body><template><body></template></template></head><body>`, `<head>[H]<template><body><template><body></template></template></head><body>[B]`},
	{"doctype", `<!DOCTYPE html><html><head></head><body>`, `<!DOCTYPE html><html><head>[H]</head><body>[B]`},
	{"doctype with ids", `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x.dtd"><body>`, `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x.dtd"><body>[H][B]`},
	{"bom", "\uFEFF<!doctype html><head></head><body>", "\uFEFF<!doctype html><head>[H]</head><body>[B]"},
	{"cdata junk", `<![CDATA[<body>]]><body>`, `<![CDATA[<body>]]><body>[H][B]`},
	{"processing instruction", `<?xml version="1.0"?><?x <body> ?><body>`, `<?xml version="1.0"?><?x <body> ?><body>[H][B]`},
	{"end tag with body attr", `</p body><body>`, `</p body><body>[H][B]`},
	{"end body tag", `</body><body>`, `</body><body>[H][B]`},
	{"lt space", `a < body><body>`, `a < body><body>[H][B]`},
	{"double lt", `<<body>`, `<<body>[H][B]`},
	{"no head", `<html><body class="x">hi`, `<html><body class="x">[H][B]hi`},
	{"no body", `<html><head></head><p>hi</p></html>`, `<html><head></head><p>hi</p></html>`},
	{"no body unfinished tag", `<html><head></head><body class="x`, `<html><head></head><body class="x`},
	{"empty", ``, ``},
	{"only once", `<body><body>`, `<body>[H][B]<body>`},
	{"second head ignored", `<head><head><body>`, `<head>[H]<head><body>[B]`},
	{"plaintext", `<plaintext><body>`, `<plaintext><body>`},
	{"utf8 text", "<head><title>控制台</title><body>中文", "<head>[H]<title>控制台</title><body>[B]中文"},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldens {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Transform([]byte(tc.in), frag)); got != tc.want {
				t.Errorf("Transform\n in: %q\ngot: %q\nwant %q", tc.in, got, tc.want)
			}
			if at, ok := Points([]byte(tc.in), frag); ok != (tc.in != tc.want) {
				t.Errorf("Points ok=%v for %q", ok, tc.in)
			} else if ok {
				if got := tc.in[:at.Head] + "[H]" + tc.in[at.Head:at.Body] + "[B]" + tc.in[at.Body:]; got != tc.want || at.Title != -1 {
					t.Errorf("Points %+v\n in: %q\ngot: %q\nwant %q", at, tc.in, got, tc.want)
				}
			}
			got, err := io.ReadAll(NewReader(strings.NewReader(tc.in), frag))
			if err != nil || string(got) != tc.want {
				t.Errorf("NewReader\n in: %q\ngot: %q (%v)\nwant %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestEmptyFragments(t *testing.T) {
	in := "<head></head><body>x"
	f := Fragments{Body: []byte("B")}
	if got := string(Transform([]byte(in), f)); got != "<head></head><body>Bx" {
		t.Fatalf("got %q", got)
	}
	if got := Transform([]byte(in), Fragments{}); string(got) != in {
		t.Fatalf("got %q", got)
	}
}

// TestHeadHoldLimit: when <body> is more than the hold limit after <head>,
// the head fragment moves next to the body fragment (never lost, never twice).
func TestHeadHoldLimit(t *testing.T) {
	filler := strings.Repeat("x", 100)
	in := "<head>" + filler + "<body>y"
	for _, tc := range []struct {
		limit int
		want  string
	}{
		{1000, "<head>[H]" + filler + "<body>[B]y"},
		{106, "<head>[H]" + filler + "<body>[B]y"},
		{105, "<head>" + filler + "<body>[H][B]y"},
		{10, "<head>" + filler + "<body>[H][B]y"},
	} {
		if got := string(transform([]byte(in), frag, tc.limit)); got != tc.want {
			t.Errorf("transform limit %d: got %q", tc.limit, got)
		}
		for _, r := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader, iotest.DataErrReader, nil} {
			var src io.Reader = strings.NewReader(in)
			if r != nil {
				src = r(src)
			}
			got, err := io.ReadAll(newReader(src, frag, tc.limit))
			if err != nil || string(got) != tc.want {
				t.Errorf("reader limit %d: got %q %v", tc.limit, got, err)
			}
		}
	}
}

func readers() map[string]func(io.Reader) io.Reader {
	return map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"onebyte":  iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"dataerr":  iotest.DataErrReader,
		"smallbuf": func(r io.Reader) io.Reader { return smallReads{r, 7} },
	}
}

type smallReads struct {
	r io.Reader
	n int
}

func (s smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

func TestReaderChunkingMatchesTransform(t *testing.T) {
	page := consolePage(20 << 10)
	inputs := [][]byte{page, bytes.Replace(page, []byte("<body"), []byte("<bodx"), 1)}
	for _, tc := range goldens {
		inputs = append(inputs, []byte(tc.in))
	}
	for name, wrap := range readers() {
		for _, in := range inputs {
			want := Transform(in, frag)
			// The consumer side also reads one byte at a time.
			got, err := io.ReadAll(iotest.OneByteReader(NewReader(wrap(bytes.NewReader(in)), frag)))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: mismatch on %.60q: err %v", name, in, err)
			}
			got, err = io.ReadAll(NewReader(wrap(bytes.NewReader(in)), frag))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s/readall: mismatch on %.60q: err %v", name, in, err)
			}
		}
	}
	if err := iotest.TestReader(NewReader(bytes.NewReader(page), frag), Transform(page, frag)); err != nil {
		t.Fatal(err)
	}
}

func TestReaderPropagatesError(t *testing.T) {
	boom := io.ErrUnexpectedEOF
	src := io.MultiReader(strings.NewReader("<head><b"), iotest.ErrReader(boom))
	got, err := io.ReadAll(NewReader(src, frag))
	if err != boom || string(got) != "<head><b" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestASCIICompatible(t *testing.T) {
	for _, tc := range []struct {
		ct    string
		sniff string
		want  bool
	}{
		{"text/html; charset=utf-8", "", true},
		{"text/html; charset=UTF-8", "", true},
		{`text/html; charset="utf-8"`, "", true},
		{"text/html", "", true},
		{"", "<html>", true},
		{"text/html; charset=us-ascii", "", true},
		{"text/html; charset=ISO-8859-15", "", true},
		{"text/html; charset=windows-1252", "", true},
		{"text/html; charset=GBK", "", true},
		{"text/html; charset=gb2312", "", true},
		{"text/html; charset=GB18030", "", true},
		{"text/html; charset=Big5", "", true},
		{"text/html; charset=Shift_JIS", "", true},
		{"text/html; charset=EUC-JP", "", true},
		{"text/html; charset=euc-kr", "", true},
		{"text/html; charset=utf-16", "", false},
		{"text/html; charset=UTF-16LE", "", false},
		{"text/html; charset=utf-32", "", false},
		{"text/html; charset=utf-7", "", false},
		{"text/html; charset=iso-2022-jp", "", false},
		{"text/html; charset=x-klingon", "", false},
		{"text/html; charset=utf-8", "\xFF\xFE<\x00h\x00", false},
		{"text/html", "\xFE\xFF\x00<", false},
		{"text/html; charset=utf-16", "\xEF\xBB\xBF<html>", true},
		{"text/html", "<\x00h\x00t\x00", false},
		{"text/html", `<meta charset="gbk">`, true},
		{"text/html", `<meta http-equiv="Content-Type" content="text/html; charset=x-weird">`, false},
		{"text/html", `<meta charset=utf-16>`, true},
	} {
		if got := ASCIICompatible(tc.ct, []byte(tc.sniff)); got != tc.want {
			t.Errorf("ASCIICompatible(%q, %q) = %v, want %v", tc.ct, tc.sniff, got, tc.want)
		}
	}
}

// consolePage builds a realistic console page of about n bytes: doctype, a
// head with meta/link/inline script and style, then a long body.
func consolePage(n int) []byte {
	var b bytes.Buffer
	b.WriteString("\uFEFF<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>控制台 - Console</title>\n")
	b.WriteString("<!-- build 2024.1 <body> in a comment -->\n")
	for i := 0; i < 20; i++ {
		b.WriteString(`<link rel="stylesheet" href="/static/css/chunk-` + strings.Repeat("a", 8) + `.css" integrity="sha384-abc">` + "\n")
	}
	b.WriteString("<script>window.__CONF__={\"html\":\"<body class='x'>\",\"a\":1>0};</script>\n")
	b.WriteString("<style>.nav>li{color:#333}.a::after{content:'<body>'}</style>\n</head>\n")
	b.WriteString(`<body class="console theme-default" data-cfg='{"x":"a>b"}'>` + "\n")
	row := `<div class="row"><span class="cell" title="资源 &gt; 列表">ECS-实例-0001</span><a href="/ecs/detail?id=1&amp;r=cn-north-4">详情</a></div>` + "\n"
	for b.Len() < n {
		b.WriteString(row)
	}
	b.WriteString("<script src=\"/static/js/app.js\"></script>\n</body>\n</html>\n")
	return b.Bytes()
}
