// Package qrpng draws a QR code as a PNG image (rsc.io/qr, error
// correction level M): the printable offline invitation link
// (docs/association.md).
package qrpng

import (
	"encoding/base64"
	"fmt"

	"rsc.io/qr"
)

// MaxText bounds what Encode accepts (an invitation link is about 100
// bytes; level M holds at most 2,331 bytes).
const MaxText = 1024

// Scale is the size of one module in pixels.
const Scale = 8

// Encode returns the PNG of text's QR code, with a quiet zone of four
// modules. Errors: text empty or longer than MaxText, an encoder error.
func Encode(text string) ([]byte, error) {
	if text == "" || len(text) > MaxText {
		return nil, fmt.Errorf("qrpng: text of %d bytes (1 to %d)", len(text), MaxText)
	}
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("qrpng: %w", err)
	}
	c.Scale = Scale
	return c.PNG(), nil
}

// DataURI returns Encode's PNG as a data: URI (for an <img src>; the
// page's CSP must allow img-src data:). Errors: Encode's.
func DataURI(text string) (string, error) {
	b, err := Encode(text)
	if err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b), nil
}
