package postprocess

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxLiteralDepth bounds nesting so that hostile metadata cannot exhaust
// the stack; Ultralytics writes at most two levels.
const maxLiteralDepth = 32

// pyItem is one key-value pair of a dict literal, kept in source order.
type pyItem struct {
	Key, Value any
}

// pyDict is a parsed dict literal. Order is kept because Python dicts are
// ordered and a duplicate key means the last value wins.
type pyDict []pyItem

// literalParser reads the subset of Python literal syntax that Python's
// str() writes for metadata (dict, list, tuple, str, int, float, True,
// False, None) plus JSON's true, false and null. Parsed values are string,
// int64, float64, bool, nil, []any and pyDict.
type literalParser struct {
	src string
	pos int
}

// parseLiteral parses s as one literal with optional surrounding space.
func parseLiteral(s string) (any, error) {
	p := &literalParser{src: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.errorf("unexpected %q after the value", p.rest())
	}
	return v, nil
}

func (p *literalParser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// rest returns a short excerpt of the unparsed input for error messages.
func (p *literalParser) rest() string {
	r := p.src[p.pos:]
	if len(r) > 16 {
		r = r[:16] + "..."
	}
	return r
}

func (p *literalParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

func (p *literalParser) value(depth int) (any, error) {
	if depth > maxLiteralDepth {
		return nil, p.errorf("nesting deeper than %d levels", maxLiteralDepth)
	}
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.dict(depth)
	case c == '[':
		return p.sequence(depth, ']')
	case c == '(':
		return p.sequence(depth, ')')
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
		return p.identifier()
	default:
		return nil, p.errorf("unexpected %q", p.rest())
	}
}

func (p *literalParser) dict(depth int) (any, error) {
	p.pos++ // '{'
	d := pyDict{}
	for {
		p.skipSpace()
		if p.consume('}') {
			return d, nil
		}
		key, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if !p.consume(':') {
			return nil, p.errorf("expected ':' after a dict key, found %q", p.rest())
		}
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d = append(d, pyItem{Key: key, Value: val})
		if err := p.separator('}'); err != nil {
			return nil, err
		}
	}
}

func (p *literalParser) sequence(depth int, end byte) (any, error) {
	p.pos++ // '[' or '('
	list := []any{}
	for {
		p.skipSpace()
		if p.consume(end) {
			return list, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		if err := p.separator(end); err != nil {
			return nil, err
		}
	}
}

// separator consumes the comma after an element, or leaves the closing
// bracket for the caller. A trailing comma before the bracket is allowed.
func (p *literalParser) separator(end byte) error {
	p.skipSpace()
	if p.consume(',') {
		return nil
	}
	if p.pos < len(p.src) && p.src[p.pos] == end {
		return nil
	}
	if p.pos >= len(p.src) {
		return p.errorf("missing closing %q", end)
	}
	return p.errorf("expected ',' or %q, found %q", end, p.rest())
}

func (p *literalParser) consume(c byte) bool {
	if p.pos < len(p.src) && p.src[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *literalParser) identifier() (any, error) {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || (c >= '0' && c <= '9') {
			p.pos++
			continue
		}
		break
	}
	switch word := p.src[start:p.pos]; word {
	case "True", "true":
		return true, nil
	case "False", "false":
		return false, nil
	case "None", "null":
		return nil, nil
	case "inf":
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	default:
		p.pos = start
		return nil, p.errorf("unknown name %q", word)
	}
}

func (p *literalParser) number() (any, error) {
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte("+-.0123456789eE_xXoObBaAcCdDfF", p.src[p.pos]) >= 0 {
		p.pos++
	}
	text := p.src[start:p.pos]
	if i, err := strconv.ParseInt(text, 0, 64); err == nil {
		return i, nil
	}
	if f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64); err == nil {
		return f, nil
	}
	p.pos = start
	return nil, p.errorf("invalid number %q", text)
}

// str parses a quoted string with Python's escapes, which include JSON's.
func (p *literalParser) str() (any, error) {
	quote := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == quote:
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.escape(&b, quote); err != nil {
				return nil, err
			}
		case c == '\n':
			return nil, p.errorf("line break inside a string")
		default:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return nil, p.errorf("invalid UTF-8 inside a string")
			}
			b.WriteString(p.src[p.pos : p.pos+size])
			p.pos += size
		}
	}
}

var simpleEscapes = map[byte]byte{
	'\\': '\\', '\'': '\'', '"': '"', '/': '/',
	'n': '\n', 't': '\t', 'r': '\r', 'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v',
}

func (p *literalParser) escape(b *strings.Builder, quote byte) error {
	if p.pos+1 >= len(p.src) {
		return p.errorf("unterminated string")
	}
	c := p.src[p.pos+1]
	if r, ok := simpleEscapes[c]; ok {
		b.WriteByte(r)
		p.pos += 2
		return nil
	}
	switch c {
	case 'x':
		return p.hexEscape(b, 2)
	case 'u':
		return p.unicodeEscape(b)
	case 'U':
		return p.hexEscape(b, 8)
	case '\n':
		p.pos += 2 // a backslash-newline continues the line
		return nil
	}
	if c >= '0' && c <= '7' {
		return p.octalEscape(b)
	}
	// Python keeps an unknown escape as written, backslash included.
	b.WriteByte('\\')
	p.pos++
	return nil
}

// readHex reads n hex digits after the escape letter at p.pos+1.
func (p *literalParser) readHex(n int) (rune, error) {
	start := p.pos + 2
	if start+n > len(p.src) {
		return 0, p.errorf("truncated escape %q", p.src[p.pos:])
	}
	v, err := strconv.ParseUint(p.src[start:start+n], 16, 32)
	if err != nil {
		return 0, p.errorf("invalid escape %q", p.src[p.pos:start+n])
	}
	return rune(v), nil
}

func (p *literalParser) hexEscape(b *strings.Builder, n int) error {
	r, err := p.readHex(n)
	if err != nil {
		return err
	}
	if r > utf8.MaxRune {
		return p.errorf("escape %q is beyond the Unicode range", p.src[p.pos:p.pos+2+n])
	}
	b.WriteRune(r)
	p.pos += 2 + n
	return nil
}

// unicodeEscape reads \uNNNN and joins a JSON surrogate pair \uD83D\uDE00
// into one code point, as JSON decoders do.
func (p *literalParser) unicodeEscape(b *strings.Builder) error {
	r, err := p.readHex(4)
	if err != nil {
		return err
	}
	p.pos += 6
	if r >= 0xD800 && r < 0xDC00 && strings.HasPrefix(p.src[p.pos:], `\u`) {
		low, err := p.readHex(4)
		if err == nil && low >= 0xDC00 && low < 0xE000 {
			r = 0x10000 + (r-0xD800)<<10 + (low - 0xDC00)
			p.pos += 6
		}
	}
	b.WriteRune(r)
	return nil
}

func (p *literalParser) octalEscape(b *strings.Builder) error {
	start := p.pos + 1
	end := start
	for end < len(p.src) && end < start+3 && p.src[end] >= '0' && p.src[end] <= '7' {
		end++
	}
	v, _ := strconv.ParseUint(p.src[start:end], 8, 32)
	b.WriteRune(rune(v))
	p.pos = end
	return nil
}
