package inject

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

var titled = Fragments{Head: []byte("[H]"), Body: []byte("[B]"), Title: []byte(" – Partner")}

// TestTitle: the title fragment goes right before the end tag of the first
// <title> of the held head section, and nowhere else.
func TestTitle(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"basic", "<html><head><title>Console</title></head><body>x",
			"<html><head>[H]<title>Console – Partner</title></head><body>[B]x"},
		{"upper case end tag", "<head><TITLE>C</TITLE ></head><body>", "<head>[H]<TITLE>C – Partner</TITLE ></head><body>[B]"},
		{"end tag with slash", "<head><title>C</title/><body>", "<head>[H]<title>C – Partner</title/><body>[B]"},
		{"empty title", "<head><title></title><body>", "<head>[H]<title> – Partner</title><body>[B]"},
		{"markup-like text in title", "<head><title>a</b><body></titlex></title><body>", "<head>[H]<title>a</b><body></titlex> – Partner</title><body>[B]"},
		{"utf8 title", "<head><title>控制台</title><body>", "<head>[H]<title>控制台 – Partner</title><body>[B]"},
		{"only the first title", "<head><title>a</title><title>b</title><body>", "<head>[H]<title>a – Partner</title><title>b</title><body>[B]"},
		{"no title", "<head><meta charset=utf-8></head><body>", "<head>[H]<meta charset=utf-8></head><body>[B]"},
		{"title in a comment", "<head><!-- <title>x</title> --></head><body>", "<head>[H]<!-- <title>x</title> --></head><body>[B]"},
		{"title in a script", `<head><script>"<title>x</title>"</script></head><body>`, `<head>[H]<script>"<title>x</title>"</script></head><body>[B]`},
		{"title in a template", "<head><template><title>t</title></template><title>real</title><body>",
			"<head>[H]<template><title>t</title></template><title>real – Partner</title><body>[B]"},
		{"title in the body is not touched", "<head></head><body><svg><title>icon</title></svg>",
			"<head>[H]</head><body>[B]<svg><title>icon</title></svg>"},
		{"no head: title left alone", "<html><title>C</title><body>", "<html><title>C</title><body>[H][B]"},
		{"unclosed title: no body", "<head><title>C<body>", "<head><title>C<body>"},
		{"no body: nothing", "<head><title>C</title></head>", "<head><title>C</title></head>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Transform([]byte(tc.in), titled)); got != tc.want {
				t.Errorf("Transform\n in: %q\ngot: %q\nwant %q", tc.in, got, tc.want)
			}
			if at, ok := Points([]byte(tc.in), titled); ok {
				var b []byte
				for _, p := range at.Pieces([]byte(tc.in), titled) {
					b = append(b, p...)
				}
				if string(b) != tc.want || len(b) != len(tc.in)+at.Added(titled) {
					t.Errorf("Points %+v: %q", at, b)
				}
			}
			// Every split of the input across reads, including one byte
			// at a time (the end tag split anywhere).
			for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader, iotest.DataErrReader} {
				got, err := io.ReadAll(NewReader(wrap(strings.NewReader(tc.in)), titled))
				if err != nil || string(got) != tc.want {
					t.Errorf("NewReader: got %q (%v), want %q", got, err, tc.want)
				}
			}
			for cut := 1; cut < len(tc.in); cut++ {
				src := io.MultiReader(strings.NewReader(tc.in[:cut]), strings.NewReader(tc.in[cut:]))
				got, _ := io.ReadAll(NewReader(src, titled))
				if string(got) != tc.want {
					t.Fatalf("split at %d: got %q, want %q", cut, got, tc.want)
				}
			}
			r, size := Sized(iotest.OneByteReader(strings.NewReader(tc.in)), int64(len(tc.in)), titled, 0)
			got, _ := io.ReadAll(r)
			if string(got) != tc.want || size != int64(len(tc.want)) {
				t.Errorf("Sized: %d %q, want %d %q", size, got, len(tc.want), tc.want)
			}
		})
	}
}

// TestTitleHeadTooLong: a head longer than the hold limit leaves the title
// alone (the head fragment moves next to the body one).
func TestTitleHeadTooLong(t *testing.T) {
	in := "<head><title>C</title>" + strings.Repeat("x", 100) + "<body>y"
	want := "<head><title>C</title>" + strings.Repeat("x", 100) + "<body>[H][B]y"
	if got := string(transform([]byte(in), titled, 50)); got != want {
		t.Fatalf("transform: %q", got)
	}
	got, _ := io.ReadAll(newReader(iotest.OneByteReader(strings.NewReader(in)), titled, 50))
	if string(got) != want {
		t.Fatalf("reader: %q", got)
	}
}

// TestTitleOnly: a title fragment alone (no head fragment) still needs and
// finds the head section.
func TestTitleOnly(t *testing.T) {
	f := Fragments{Title: []byte("!")}
	in := "<head><title>C</title><body>"
	if got := string(Transform([]byte(in), f)); got != "<head><title>C!</title><body>" {
		t.Fatalf("got %q", got)
	}
	if got := Transform([]byte(in), Fragments{Body: []byte("B")}); !bytes.Equal(got, []byte("<head><title>C</title><body>B")) {
		t.Fatalf("no title fragment: %q", got)
	}
}
