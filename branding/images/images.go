// Package images checks uploaded logo images: size first, type by content
// sniffing (never the client's Content-Type or file name), dimensions from the
// header before any full decode (decompression bombs), then integrity, and
// an allow-list sanitizer for SVG. Accepted images are content-addressed by
// the SHA-256 of their bytes.
package images

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// Sentinel errors; Check wraps them with detail, test with errors.Is.
var (
	ErrTooLarge        = errors.New("image: file too large")
	ErrUnsupportedType = errors.New("image: unsupported type (want PNG, JPEG, WebP or SVG)")
	ErrUnsafeSVG       = errors.New("image: unsafe SVG")
	ErrDimensions      = errors.New("image: dimensions out of bounds")
	ErrCorrupt         = errors.New("image: corrupt or truncated")
)

// Limits bounds accepted images. Zero fields take the DefaultLimits value.
type Limits struct {
	MaxBytes  int
	MaxWidth  int
	MaxHeight int
	MaxPixels int
}

// DefaultLimits: 512 KiB, 4096×4096, 4 Mi pixels.
var DefaultLimits = Limits{MaxBytes: 512 << 10, MaxWidth: 4096, MaxHeight: 4096, MaxPixels: 4 << 20}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxWidth <= 0 {
		l.MaxWidth = DefaultLimits.MaxWidth
	}
	if l.MaxHeight <= 0 {
		l.MaxHeight = DefaultLimits.MaxHeight
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	return l
}

// Image is an accepted upload. Data is the original bytes (never rewritten);
// SHA256 is the lower-case hex digest of Data; Ext is png, jpg, webp or svg.
// For SVG, Width/Height come from the width/height attributes or the viewBox
// and are 0 when neither gives a plain number.
type Image struct {
	Data        []byte
	SHA256      string
	Ext         string
	ContentType string
	Width       int
	Height      int
}

type rasterKind struct {
	ext, contentType string
	config           func(io.Reader) (image.Config, error)
	decode           func(io.Reader) (image.Image, error)
}

var (
	kindPNG  = rasterKind{"png", "image/png", png.DecodeConfig, png.Decode}
	kindJPEG = rasterKind{"jpg", "image/jpeg", jpeg.DecodeConfig, jpeg.Decode}
	kindWebP = rasterKind{"webp", "image/webp", webp.DecodeConfig, webp.Decode}
)

// sniff decides the type from magic bytes only.
func sniff(data []byte) (r *rasterKind, svg bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return &kindPNG, false
	case bytes.HasPrefix(data, []byte("\xFF\xD8\xFF")):
		return &kindJPEG, false
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return &kindWebP, false
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	if bytes.HasPrefix(t, []byte("<")) && bytes.Contains(data, []byte("<svg")) {
		return nil, true
	}
	return nil, false
}

// Check validates an uploaded logo. Errors wrap exactly one of the sentinels:
// ErrTooLarge (checked first, before any parsing), ErrUnsupportedType,
// ErrDimensions (from the header, before decoding pixels), ErrCorrupt,
// ErrUnsafeSVG (message names the offending element or attribute).
// A full decode of raster images is done only after the dimension check, so
// its memory is bounded by MaxPixels (≤ 8 bytes per pixel).
func Check(data []byte, o Limits) (Image, error) {
	o = o.withDefaults()
	if len(data) > o.MaxBytes {
		return Image{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), o.MaxBytes)
	}
	if len(data) == 0 {
		return Image{}, fmt.Errorf("%w: empty file", ErrUnsupportedType)
	}
	img := Image{Data: data}
	kind, isSVG := sniff(data)
	switch {
	case kind != nil:
		cfg, err := kind.config(bytes.NewReader(data))
		if err != nil {
			return Image{}, fmt.Errorf("%w: %s header: %v", ErrCorrupt, kind.ext, err)
		}
		if err := checkDims(cfg.Width, cfg.Height, o); err != nil {
			return Image{}, err
		}
		m, err := kind.decode(bytes.NewReader(data))
		if err != nil {
			return Image{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, kind.ext, err)
		}
		if b := m.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
			return Image{}, fmt.Errorf("%w: %s: header and image size differ", ErrCorrupt, kind.ext)
		}
		img.Ext, img.ContentType, img.Width, img.Height = kind.ext, kind.contentType, cfg.Width, cfg.Height
	case isSVG:
		w, h, err := checkSVG(data)
		if err != nil {
			return Image{}, err
		}
		if w > o.MaxWidth || h > o.MaxHeight {
			return Image{}, fmt.Errorf("%w: declared SVG size %dx%d", ErrDimensions, w, h)
		}
		img.Ext, img.ContentType, img.Width, img.Height = "svg", "image/svg+xml", w, h
	default:
		return Image{}, fmt.Errorf("%w: unrecognised content", ErrUnsupportedType)
	}
	sum := sha256.Sum256(data)
	img.SHA256 = hex.EncodeToString(sum[:])
	return img, nil
}

func checkDims(w, h int, o Limits) error {
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("%w: %dx%d", ErrDimensions, w, h)
	case w > o.MaxWidth || h > o.MaxHeight:
		return fmt.Errorf("%w: %dx%d exceeds %dx%d", ErrDimensions, w, h, o.MaxWidth, o.MaxHeight)
	case int64(w)*int64(h) > int64(o.MaxPixels):
		return fmt.Errorf("%w: %d pixels exceeds %d", ErrDimensions, int64(w)*int64(h), o.MaxPixels)
	}
	return nil
}
