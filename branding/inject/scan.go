package inject

// scanner is a minimal, allocation-free HTML tokenizer that follows the WHATWG
// tokenizer states closely enough to find the first real <head> and <body>
// start tags: it understands quoted attribute values, comments (including the
// abrupt forms <!--> and --!>), bogus comments (<!DOCTYPE ...>, <?...>,
// <![CDATA[...>), raw-text / RCDATA elements (script, style, title, textarea,
// ...), <plaintext> and <template> contents. It never copies input bytes; it
// only reports the offset just after the '>' of an interesting start tag.
//
// Known simplifications (documented, harmless for injection): script
// "double-escaped" states (<script><!--<script></script>-->) and CDATA in
// foreign (SVG/MathML) content are not modelled.

type event uint8

const (
	evNone event = iota
	evHead       // the first <head ...> start tag ended just before the returned offset
	evBody       // the first <body ...> start tag ended just before the returned offset
	// evTitle: the end tag of the first <title> after the <head> start tag
	// was recognised; its "</title" and the one byte after it (space, '/'
	// or '>') end just before the returned offset, so the end tag starts
	// titleEndLen bytes before it.
	evTitle
)

// titleEndLen is len("</title") plus the byte that ends the tag name.
const titleEndLen = len("</title") + 1

type state uint8

const (
	sData state = iota
	sTagOpen
	sEndTagOpen
	sTagName
	sBeforeAttrName
	sAttrName
	sAfterAttrName
	sBeforeAttrValue
	sAttrValueDQ
	sAttrValueSQ
	sAttrValueUnq
	sMarkupDecl
	sMarkupDash
	sBogusComment
	sCommentStart
	sCommentStartDash
	sComment
	sCommentEndDash
	sCommentEnd
	sCommentEndBang
	sRaw
	sRawLT
	sRawEndName
	sPlaintext
)

const nameCap = 9 // longest interesting tag name: "plaintext"

type scanner struct {
	state     state
	isEnd     bool
	wantHead  bool // report evHead (false when the head fragment is empty)
	wantTitle bool // report evTitle (false when the title fragment is empty)
	headSeen  bool
	titleSeen bool
	nameLen   int
	name      [nameCap]byte
	raw       string // lower-case name of the raw-text element we are inside
	rawIdx    int
	tmpl      int // <template> nesting depth
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func isAlpha(c byte) bool { c = lower(c); return 'a' <= c && c <= 'z' }

func (s *scanner) addName(c byte) {
	if s.nameLen < nameCap {
		s.name[s.nameLen] = lower(c)
	}
	s.nameLen++
}

// tagName returns the lower-cased tag name, or "" when it is too long to be
// one we care about.
func (s *scanner) tagName() string {
	if s.nameLen > nameCap {
		return ""
	}
	switch string(s.name[:s.nameLen]) { // no allocation: constant comparisons
	case "body":
		return "body"
	case "head":
		return "head"
	case "template":
		return "template"
	case "script":
		return "script"
	case "style":
		return "style"
	case "title":
		return "title"
	case "textarea":
		return "textarea"
	case "xmp":
		return "xmp"
	case "iframe":
		return "iframe"
	case "noembed":
		return "noembed"
	case "noframes":
		return "noframes"
	case "noscript":
		return "noscript"
	case "plaintext":
		return "plaintext"
	}
	return ""
}

// emitTag is called at the '>' that closes a tag.
func (s *scanner) emitTag() event {
	s.state = sData
	name := s.tagName()
	if s.isEnd {
		if name == "template" && s.tmpl > 0 {
			s.tmpl--
		}
		return evNone
	}
	switch name {
	case "body":
		if s.tmpl == 0 {
			return evBody
		}
	case "head":
		if s.tmpl == 0 && !s.headSeen {
			s.headSeen = true
			if s.wantHead {
				return evHead
			}
		}
	case "template":
		s.tmpl++
	case "plaintext":
		s.state = sPlaintext
	case "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript":
		s.state = sRaw
		s.raw = name
	}
	return evNone
}

// scan consumes b until an event occurs. It returns the number of bytes
// consumed (the event, if any, happens right after b[k-1]).
func (s *scanner) scan(b []byte) (int, event) {
	i := 0
	for i < len(b) {
		// Fast paths for the states that skip long runs of bytes.
		switch s.state {
		case sData:
			j := indexByte(b[i:], '<')
			if j < 0 {
				return len(b), evNone
			}
			i += j + 1
			s.state = sTagOpen
			continue
		case sRaw:
			j := indexByte(b[i:], '<')
			if j < 0 {
				return len(b), evNone
			}
			i += j + 1
			s.state = sRawLT
			continue
		case sComment:
			j := indexByte(b[i:], '-')
			if j < 0 {
				return len(b), evNone
			}
			i += j + 1
			s.state = sCommentEndDash
			continue
		case sBogusComment:
			j := indexByte(b[i:], '>')
			if j < 0 {
				return len(b), evNone
			}
			i += j + 1
			s.state = sData
			continue
		case sAttrValueDQ, sAttrValueSQ:
			q := byte('"')
			if s.state == sAttrValueSQ {
				q = '\''
			}
			j := indexByte(b[i:], q)
			if j < 0 {
				return len(b), evNone
			}
			i += j + 1
			s.state = sBeforeAttrName
			continue
		case sPlaintext:
			return len(b), evNone
		}

		c := b[i]
		i++
		switch s.state {
		case sTagOpen:
			switch {
			case c == '!':
				s.state = sMarkupDecl
			case c == '/':
				s.state = sEndTagOpen
			case isAlpha(c):
				s.isEnd, s.nameLen = false, 0
				s.addName(c)
				s.state = sTagName
			case c == '?':
				s.state = sBogusComment
			default:
				s.state = sData
				i-- // reconsume (it may be another '<')
			}
		case sEndTagOpen:
			switch {
			case isAlpha(c):
				s.isEnd, s.nameLen = true, 0
				s.addName(c)
				s.state = sTagName
			case c == '>':
				s.state = sData
			default:
				s.state = sBogusComment
			}
		case sTagName:
			switch {
			case isSpace(c) || c == '/':
				s.state = sBeforeAttrName
			case c == '>':
				if ev := s.emitTag(); ev != evNone {
					return i, ev
				}
			default:
				s.addName(c)
			}
		case sBeforeAttrName:
			switch {
			case isSpace(c) || c == '/':
			case c == '>':
				if ev := s.emitTag(); ev != evNone {
					return i, ev
				}
			default: // includes '=' which starts an attribute named "="
				s.state = sAttrName
			}
		case sAttrName:
			switch {
			case isSpace(c):
				s.state = sAfterAttrName
			case c == '/':
				s.state = sBeforeAttrName
			case c == '=':
				s.state = sBeforeAttrValue
			case c == '>':
				if ev := s.emitTag(); ev != evNone {
					return i, ev
				}
			}
		case sAfterAttrName:
			switch {
			case isSpace(c):
			case c == '/':
				s.state = sBeforeAttrName
			case c == '=':
				s.state = sBeforeAttrValue
			case c == '>':
				if ev := s.emitTag(); ev != evNone {
					return i, ev
				}
			default:
				s.state = sAttrName
			}
		case sBeforeAttrValue:
			switch {
			case isSpace(c):
			case c == '"':
				s.state = sAttrValueDQ
			case c == '\'':
				s.state = sAttrValueSQ
			case c == '>':
				if ev := s.emitTag(); ev != evNone {
					return i, ev
				}
			default:
				s.state = sAttrValueUnq
			}
		case sAttrValueUnq:
			switch {
			case isSpace(c):
				s.state = sBeforeAttrName
			case c == '>':
				if ev := s.emitTag(); ev != evNone {
					return i, ev
				}
			}
		case sMarkupDecl:
			if c == '-' {
				s.state = sMarkupDash
			} else {
				s.state = sBogusComment
				i--
			}
		case sMarkupDash:
			if c == '-' {
				s.state = sCommentStart
			} else {
				s.state = sBogusComment
				i--
			}
		case sCommentStart:
			switch c {
			case '-':
				s.state = sCommentStartDash
			case '>':
				s.state = sData
			default:
				s.state = sComment
			}
		case sCommentStartDash, sCommentEndDash:
			switch {
			case c == '-':
				s.state = sCommentEnd
			case c == '>' && s.state == sCommentStartDash:
				s.state = sData
			default:
				s.state = sComment
			}
		case sCommentEnd:
			switch c {
			case '>':
				s.state = sData
			case '!':
				s.state = sCommentEndBang
			case '-':
			default:
				s.state = sComment
			}
		case sCommentEndBang:
			switch c {
			case '-':
				s.state = sCommentEndDash
			case '>':
				s.state = sData
			default:
				s.state = sComment
			}
		case sRawLT:
			if c == '/' {
				s.state, s.rawIdx = sRawEndName, 0
			} else {
				s.state = sRaw
				i--
			}
		case sRawEndName:
			if s.rawIdx < len(s.raw) {
				if lower(c) == s.raw[s.rawIdx] {
					s.rawIdx++
				} else {
					s.state = sRaw
					i--
				}
				break
			}
			switch {
			case isSpace(c) || c == '/':
				s.isEnd, s.nameLen = true, copy(s.name[:], s.raw)
				s.state = sBeforeAttrName
			case c == '>':
				s.isEnd, s.nameLen = true, copy(s.name[:], s.raw)
				s.emitTag() // end tags produce no events of their own
			default:
				s.state = sRaw
				i--
				continue
			}
			if s.raw == "title" && s.wantTitle && s.headSeen && !s.titleSeen && s.tmpl == 0 {
				s.titleSeen = true
				return i, evTitle
			}
		}
	}
	return i, evNone
}
