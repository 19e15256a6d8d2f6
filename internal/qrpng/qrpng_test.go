package qrpng

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"strings"
	"testing"

	"rsc.io/qr"
)

// TestEncode: a PNG that decodes, square, black where the code's modules
// are (the finder pattern's corner and the quiet zone white), distinct per
// text; bad input refused.
func TestEncode(t *testing.T) {
	link := "https://console.acme.example/_livery/invitations/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	b, err := Encode(link)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	c, _ := qr.Encode(link, qr.M)
	r := img.Bounds()
	if r.Dx() != r.Dy() || r.Dx() != (c.Size+8)*Scale {
		t.Fatalf("bounds %v; want %d square", r, (c.Size+8)*Scale)
	}
	dark := func(x, y int) bool { cr, _, _, _ := img.At(x, y).RGBA(); return cr < 0x8000 }
	if dark(0, 0) || !dark(4*Scale+1, 4*Scale+1) {
		t.Fatal("quiet zone not white or finder pattern not black")
	}
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if dark((x+4)*Scale+Scale/2, (y+4)*Scale+Scale/2) != c.Black(x, y) {
				t.Fatalf("module %d,%d differs from the code", x, y)
			}
		}
	}
	other, _ := Encode(link + "0")
	if bytes.Equal(b, other) {
		t.Fatal("two texts, one image")
	}
	uri, err := DataURI(link)
	if err != nil || !strings.HasPrefix(uri, "data:image/png;base64,") {
		t.Fatalf("DataURI: %.40s %v", uri, err)
	}
	if raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(uri, "data:image/png;base64,")); !bytes.Equal(raw, b) {
		t.Fatal("DataURI is not the PNG")
	}
	for _, bad := range []string{"", strings.Repeat("x", MaxText+1)} {
		if _, err := Encode(bad); err == nil {
			t.Fatalf("Encode(%d bytes) accepted", len(bad))
		}
	}
}
