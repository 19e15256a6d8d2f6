package images

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"
)

func genPNG(t testing.TB, w, h int) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func genJPEG(t testing.TB, w, h int) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		m.Set(x, x%h, color.RGBA{200, 10, 10, 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// forgedPNG is a valid PNG signature and IHDR (correct CRC) claiming w×h,
// followed by a tiny IDAT: a decompression bomb if decoded naively.
func forgedPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// tinyWebP is a 1×1 lossless WebP (VP8L).
var tinyWebP = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

const svgHead = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="40" viewBox="0 0 120 40">`

func TestCheck(t *testing.T) {
	small := Limits{MaxBytes: 512 << 10, MaxWidth: 4096, MaxHeight: 4096, MaxPixels: 4 << 20}
	for _, tc := range []struct {
		name      string
		data      []byte
		lim       Limits
		wantErr   error
		errSubstr string
		ext       string
		w, h      int
	}{
		{name: "png", data: genPNG(t, 64, 32), ext: "png", w: 64, h: 32},
		{name: "jpeg", data: genJPEG(t, 50, 20), ext: "jpg", w: 50, h: 20},
		{name: "webp", data: tinyWebP, ext: "webp", w: 1, h: 1},
		{name: "svg", ext: "svg", w: 120, h: 40, data: []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!-- logo -->` + svgHead + `<title>ACME</title><defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient>
<clipPath id="c"><rect width="10" height="10"/></clipPath></defs>
<g fill="url(#g)" clip-path="url('#c')" style="opacity:.5"><path d="M0 0L10 10Z"/><circle cx="5" cy="5" r="3"/></g>
<use xlink:href="#c"/><use href="#g"/><text x="1" y="2" font-family="Arial">ACME 云</text>
<style>.a{fill:url(#g)}</style></svg>`)},
		{name: "svg viewBox only", ext: "svg", w: 300, h: 100, data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0,0,300,100"><rect width="1" height="1"/></svg>`)},
		{name: "svg script", wantErr: ErrUnsafeSVG, errSubstr: "<script>", data: []byte(svgHead + `<script>alert(1)</script></svg>`)},
		{name: "svg namespaced script", wantErr: ErrUnsafeSVG, errSubstr: "script", data: []byte(svgHead + `<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script></svg>`)},
		{name: "svg onload", wantErr: ErrUnsafeSVG, errSubstr: "onload", data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`)},
		{name: "svg onclick upper", wantErr: ErrUnsafeSVG, errSubstr: "OnClick", data: []byte(svgHead + `<rect OnClick="x"/></svg>`)},
		{name: "svg foreignObject", wantErr: ErrUnsafeSVG, errSubstr: "<foreignObject>", data: []byte(svgHead + `<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>`)},
		{name: "svg javascript href", wantErr: ErrUnsafeSVG, errSubstr: "href", data: []byte(svgHead + `<use xlink:href="javascript:alert(1)"/></svg>`)},
		{name: "svg anchor", wantErr: ErrUnsafeSVG, errSubstr: "<a>", data: []byte(svgHead + `<a href="https://evil.example/"><rect/></a></svg>`)},
		{name: "svg external image", wantErr: ErrUnsafeSVG, errSubstr: "<image>", data: []byte(svgHead + `<image href="https://evil.example/x.png"/></svg>`)},
		{name: "svg external use", wantErr: ErrUnsafeSVG, errSubstr: "only local", data: []byte(svgHead + `<use href="https://evil.example/s.svg#a"/></svg>`)},
		{name: "svg data href", wantErr: ErrUnsafeSVG, errSubstr: "href", data: []byte(svgHead + `<use xlink:href="data:image/svg+xml;base64,PHN2Zz4="/></svg>`)},
		{name: "svg external url()", wantErr: ErrUnsafeSVG, errSubstr: "url()", data: []byte(svgHead + `<rect fill="url(https://evil.example/#g)"/></svg>`)},
		{name: "svg style url", wantErr: ErrUnsafeSVG, errSubstr: "style", data: []byte(svgHead + `<rect style="background:url(//evil.example/t)"/></svg>`)},
		{name: "svg style expression", wantErr: ErrUnsafeSVG, errSubstr: "expression", data: []byte(svgHead + `<rect style="width:expression(alert(1))"/></svg>`)},
		{name: "svg style element import", wantErr: ErrUnsafeSVG, errSubstr: "@import", data: []byte(svgHead + `<style>@import "https://evil.example/x.css";</style></svg>`)},
		{name: "svg css escape", wantErr: ErrUnsafeSVG, errSubstr: `\`, data: []byte(svgHead + `<style>.a{fill:u\72l(https://e.example)}</style></svg>`)},
		{name: "svg entity bomb", wantErr: ErrUnsafeSVG, errSubstr: "DOCTYPE", data: []byte(`<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>`)},
		{name: "svg stylesheet PI", wantErr: ErrUnsafeSVG, errSubstr: "xml-stylesheet", data: []byte(`<?xml-stylesheet href="https://evil.example/a.css"?>` + svgHead + `</svg>`)},
		{name: "svg other namespace attr", wantErr: ErrUnsafeSVG, errSubstr: "namespace", data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="click"></svg>`)},
		{name: "svg malformed", wantErr: ErrCorrupt, data: []byte(svgHead + `<rect></svg>`)},
		{name: "svg too big declared", wantErr: ErrDimensions, data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="10"></svg>`)},
		{name: "forged huge IHDR", wantErr: ErrDimensions, errSubstr: "100000x100000", data: forgedPNG(100000, 100000)},
		{name: "pixel budget", wantErr: ErrDimensions, errSubstr: "pixels", data: forgedPNG(4096, 4096)},
		{name: "exactly at limits", data: genPNG(t, 2, 3), lim: Limits{MaxWidth: 2, MaxHeight: 3, MaxPixels: 6}, ext: "png", w: 2, h: 3},
		{name: "zero height header", wantErr: ErrCorrupt, data: forgedPNG(10, 0)},
		{name: "too wide", wantErr: ErrDimensions, data: genPNG(t, 20, 2), lim: Limits{MaxWidth: 10}},
		{name: "truncated png", wantErr: ErrCorrupt, data: genPNG(t, 64, 64)[:100]},
		{name: "truncated header", wantErr: ErrCorrupt, data: []byte("\x89PNG\r\n\x1a\n\x00\x00")},
		{name: "oversize", wantErr: ErrTooLarge, data: append(genPNG(t, 8, 8), make([]byte, 600<<10)...)},
		{name: "oversize checked before type", wantErr: ErrTooLarge, data: make([]byte, 11), lim: Limits{MaxBytes: 10}},
		{name: "html disguised as png", wantErr: ErrUnsupportedType, data: []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")},
		{name: "html with inline svg", wantErr: ErrUnsupportedType, data: []byte("<!DOCTYPE html><html><body><svg></svg></body></html>")},
		{name: "html root with svg", wantErr: ErrUnsupportedType, data: []byte(`<html><svg xmlns="http://www.w3.org/2000/svg"></svg></html>`)},
		{name: "gif", wantErr: ErrUnsupportedType, data: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")},
		{name: "empty", wantErr: ErrUnsupportedType, data: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := small
			if tc.lim != (Limits{}) {
				lim = tc.lim
			}
			img, err := Check(tc.data, lim)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("err %q does not mention %q", err, tc.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			sum := sha256.Sum256(tc.data)
			if img.Ext != tc.ext || img.Width != tc.w || img.Height != tc.h || img.SHA256 != hex.EncodeToString(sum[:]) || !bytes.Equal(img.Data, tc.data) {
				t.Fatalf("got %s %dx%d %s, want %s %dx%d", img.Ext, img.Width, img.Height, img.SHA256, tc.ext, tc.w, tc.h)
			}
		})
	}
}

func TestForgedHeaderDoesNotAllocate(t *testing.T) {
	data := forgedPNG(100000, 100000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Check(data, Limits{}); !errors.Is(err, ErrDimensions) {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("allocated %d bytes checking a forged header", n)
	}
}
