package images

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	svgNS   = "http://www.w3.org/2000/svg"
	xlinkNS = "http://www.w3.org/1999/xlink"
	xmlNS   = "http://www.w3.org/XML/1998/namespace"

	maxSVGDepth    = 64
	maxSVGElements = 20000
)

var allowedElements = map[string]bool{
	"svg": true, "g": true, "path": true, "rect": true, "circle": true, "ellipse": true,
	"line": true, "polyline": true, "polygon": true, "text": true, "tspan": true, "defs": true,
	"linearGradient": true, "radialGradient": true, "stop": true, "title": true, "desc": true,
	"clipPath": true, "mask": true, "use": true, "symbol": true, "style": true,
}

// hrefElements may carry a local (#id) href / xlink:href.
var hrefElements = map[string]bool{"use": true, "linearGradient": true, "radialGradient": true}

var allowedAttrs = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range strings.Fields(`id class width height x y x1 y1 x2 y2 cx cy r rx ry fx fy fr d
		points viewBox preserveAspectRatio transform version baseProfile fill fill-opacity fill-rule
		stroke stroke-width stroke-opacity stroke-linecap stroke-linejoin stroke-miterlimit
		stroke-dasharray stroke-dashoffset opacity offset stop-color stop-opacity gradientUnits
		gradientTransform spreadMethod clip-path clip-rule clipPathUnits mask maskUnits
		maskContentUnits font-family font-size font-weight font-style font-variant text-anchor
		dominant-baseline alignment-baseline letter-spacing word-spacing dx dy textLength
		lengthAdjust visibility display color shape-rendering text-rendering color-interpolation
		vector-effect paint-order style href space lang`) {
		m[a] = true
	}
	return m
}()

func unsafeSVG(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsafeSVG, fmt.Sprintf(format, a...))
}

// checkSVG runs the allow-list sanitizer over an SVG document and returns
// its declared size. It never rewrites the document: anything outside the
// allow-list is refused with ErrUnsafeSVG. HTML or other XML that is not an
// <svg> document is ErrUnsupportedType; malformed XML is ErrCorrupt.
func checkSVG(data []byte) (w, h int, err error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var stack []string
	elements, rootDone := 0, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) && elements == 0 && !bytes.Contains(data, []byte("<svg")) {
				return 0, 0, fmt.Errorf("%w: not an SVG document", ErrUnsupportedType)
			}
			return 0, 0, fmt.Errorf("%w: svg: %v", ErrCorrupt, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if elements == 0 && !bytes.Contains(bytes.ToLower(t), []byte("svg")) {
				return 0, 0, fmt.Errorf("%w: not an SVG document", ErrUnsupportedType)
			}
			return 0, 0, unsafeSVG("<!%s> (DOCTYPE/ENTITY declarations are not allowed)", firstWord(t))
		case xml.ProcInst:
			if t.Target != "xml" {
				return 0, 0, unsafeSVG("processing instruction <?%s?>", t.Target)
			}
		case xml.StartElement:
			elements++
			name := t.Name.Local
			if len(stack) == 0 {
				if rootDone {
					return 0, 0, fmt.Errorf("%w: svg: more than one root element", ErrCorrupt)
				}
				if name != "svg" {
					return 0, 0, fmt.Errorf("%w: root element <%s> is not <svg>", ErrUnsupportedType, name)
				}
			}
			if t.Name.Space != "" && t.Name.Space != svgNS {
				return 0, 0, unsafeSVG("element <%s> in namespace %q", name, t.Name.Space)
			}
			if !allowedElements[name] {
				return 0, 0, unsafeSVG("element <%s>", name)
			}
			if len(stack) >= maxSVGDepth || elements > maxSVGElements {
				return 0, 0, unsafeSVG("document too deep or too many elements")
			}
			if err := checkAttrs(name, t.Attr); err != nil {
				return 0, 0, err
			}
			if len(stack) == 0 {
				w, h = svgSize(t.Attr)
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			rootDone = rootDone || len(stack) == 0
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] == "style" {
				if err := checkCSS("<style>", string(t)); err != nil {
					return 0, 0, err
				}
			} else if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return 0, 0, fmt.Errorf("%w: svg: text outside the root element", ErrCorrupt)
			}
		}
	}
	if !rootDone {
		return 0, 0, fmt.Errorf("%w: svg: no complete <svg> element", ErrCorrupt)
	}
	return w, h, nil
}

func firstWord(b []byte) string {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func checkAttrs(elem string, attrs []xml.Attr) error {
	for _, a := range attrs {
		local, space, val := a.Name.Local, a.Name.Space, a.Value
		switch {
		case space == "xmlns" || (space == "" && local == "xmlns"):
			if val != svgNS && val != xlinkNS {
				return unsafeSVG("<%s> namespace declaration %q", elem, val)
			}
			continue
		case strings.HasPrefix(strings.ToLower(local), "on"):
			return unsafeSVG("<%s> event handler attribute %s", elem, local)
		case local == "href" && (space == "" || space == xlinkNS || space == "xlink"):
			if !hrefElements[elem] {
				return unsafeSVG("<%s> attribute %s", elem, local)
			}
			if !localRef(val) {
				return unsafeSVG("<%s> %s=%q (only local #id references are allowed)", elem, local, val)
			}
			continue
		case space == xmlNS || space == "xml":
			if local != "space" && local != "lang" {
				return unsafeSVG("<%s> attribute xml:%s", elem, local)
			}
			continue
		case space != "":
			return unsafeSVG("<%s> attribute %s:%s", elem, space, local)
		case !allowedAttrs[local] || local == "href" || local == "space":
			return unsafeSVG("<%s> attribute %s", elem, local)
		}
		if err := checkCSS(fmt.Sprintf("<%s> attribute %s", elem, local), val); err != nil {
			return err
		}
	}
	return nil
}

func localRef(v string) bool {
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != '#' {
		return false
	}
	for _, c := range v[1:] {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// checkCSS refuses attribute values and <style> text that could load
// anything or run code: url() other than url(#id), expression(), @import,
// javascript:/data:/vbscript: schemes, legacy behaviours and CSS escapes
// (which could hide any of these).
func checkCSS(where, v string) error {
	l := strings.ToLower(v)
	for _, bad := range []string{"expression", "@import", "javascript:", "vbscript:", "data:", "behavior", "-moz-binding", "\\", "&#"} {
		if strings.Contains(l, bad) {
			return unsafeSVG("%s contains %q", where, bad)
		}
	}
	for rest := l; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return nil
		}
		rest = rest[i+4:]
		end := strings.IndexByte(rest, ')')
		if end < 0 || !localRef(strings.Trim(strings.TrimSpace(rest[:end]), `"'`)) {
			return unsafeSVG("%s references a non-local url()", where)
		}
		rest = rest[end:]
	}
}

// svgSize reads the root's width/height (plain numbers, optionally px) or
// else the viewBox size. Unknown units give 0.
func svgSize(attrs []xml.Attr) (w, h int) {
	var vb string
	for _, a := range attrs {
		switch a.Name.Local {
		case "width":
			w = parseLen(a.Value)
		case "height":
			h = parseLen(a.Value)
		case "viewBox":
			vb = a.Value
		}
	}
	if f := strings.FieldsFunc(vb, func(r rune) bool { return r == ' ' || r == ',' }); len(f) == 4 {
		if w == 0 {
			w = parseLen(f[2])
		}
		if h == 0 {
			h = parseLen(f[3])
		}
	}
	return w, h
}

func parseLen(s string) int {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "px"), 64)
	if err != nil || f <= 0 || f > 1e6 {
		return 0
	}
	return int(f + 0.5)
}
