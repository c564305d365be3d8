package xmlparse

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// plainText and plainAttr mark the bytes that text and attribute values may
// hold as written: printable ASCII and tab and newline, but not '\r' (line ends
// are normalized), '&', '<', ']' (text: "]]>" is refused) or quotes (attributes).
var plainText, plainAttr = plainTable("<&]"), plainTable(`<&"'`)

func plainTable(special string) (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['\t'], t['\n'] = true, true
	for i := 0; i < len(special); i++ {
		t[special[i]] = false
	}
	return t
}

// nameByte marks the ASCII bytes of a Name; nameStartByte those that may start one.
var nameByte, nameStartByte = func() (all, start [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == ':'
		start[c] = letter
		all[c] = letter || '0' <= c && c <= '9' || c == '.' || c == '-'
	}
	return all, start
}()

// name reads the Name at in[i] and returns its end, i when there is none. Like
// encoding/xml it takes every byte that may belong to a name, then checks the
// whole; unlike it, it refuses more than one colon or a colon at either end.
func (p *xmlParser) name(i int) (int, error) {
	in := p.in
	j, ascii := i, true
	for j < len(in) {
		if c := in[j]; c < utf8.RuneSelf {
			if !nameByte[c] {
				break
			}
		} else {
			ascii = false
		}
		j++
	}
	if j == i {
		return i, nil
	}
	ok := ascii && nameStartByte[in[i]] || !ascii && isXMLName(in[i:j])
	if c := bytes.IndexByte(in[i:j], ':'); ok && c >= 0 {
		ok = c > 0 && i+c < j-1 && bytes.IndexByte(in[i+c+1:j], ':') < 0
	}
	if !ok {
		return 0, p.strictError(i, "invalid XML name "+clipString(string(in[i:j])))
	}
	return j, nil
}

func isXMLName(b []byte) bool {
	for k := 0; k < len(b); {
		r, n := utf8.DecodeRune(b[k:])
		if r == utf8.RuneError && n == 1 || !unicode.Is(nameFirst, r) && (k == 0 || !unicode.Is(nameSecond, r)) {
			return false
		}
		k += n
	}
	return len(b) > 0
}

// text reads character data inside an element, up to the next '<'.
func (p *xmlParser) text(start int) (int, error) {
	in := p.in
	i := start
	for i < len(in) {
		c := in[i]
		if plainText[c] {
			i++
			continue
		}
		switch {
		case c == '<':
			p.addText(span{int32(start), int32(i)})
			return i, nil
		case c == '&' || c == '\r':
			s, next, err := p.decode(start, i, 0)
			if err != nil {
				return 0, err
			}
			p.addText(s)
			return next, nil
		case c == ']':
			if bytes.HasPrefix(in[i:], []byte("]]>")) {
				return 0, p.syntaxError(i, "unescaped ]]> not in CDATA section")
			}
			i++
		default:
			n, err := p.char(i)
			if err != nil {
				return 0, err
			}
			i += n
		}
	}
	p.addText(span{int32(start), int32(i)})
	return i, nil
}

// attrValue reads an attribute value whose opening quote is in[start-1] and
// returns it and the offset after the closing quote.
func (p *xmlParser) attrValue(start int) (span, int, error) {
	in := p.in
	quote := in[start-1]
	i := start
	for i < len(in) {
		c := in[i]
		if plainAttr[c] {
			i++
			continue
		}
		switch {
		case c == quote:
			return span{int32(start), int32(i)}, i + 1, nil
		case c == '"' || c == '\'':
			i++
		case c == '<':
			return span{}, 0, p.syntaxError(i, "unescaped < inside quoted string")
		case c == '&' || c == '\r':
			return p.decode(start, i, quote)
		default:
			n, err := p.char(i)
			if err != nil {
				return span{}, 0, err
			}
			i += n
		}
	}
	return span{}, 0, p.eof(i)
}

// decode continues text (quote 0) or an attribute value at in[i], the first
// reference or carriage return, decoding it into the arena. It returns the
// decoded span and the offset of the '<' that ends text, or after the closing
// quote. Line ends become '\n' as encoding/xml does it (and, like it, white
// space in attribute values is kept as is).
func (p *xmlParser) decode(start, i int, quote byte) (span, int, error) {
	in := p.in
	plain := &plainText
	if quote != 0 {
		plain = &plainAttr
	}
	a0 := len(p.arena)
	p.arena = append(p.arena, in[start:i]...)
	for i < len(in) {
		j := i
		for j < len(in) && plain[in[j]] {
			j++
		}
		p.arena = append(p.arena, in[i:j]...)
		if i = j; i >= len(in) {
			break
		}
		c := in[i]
		switch {
		case c == '<' && quote == 0:
			return p.arenaSpan(a0), i, nil
		case c == '<':
			return span{}, 0, p.syntaxError(i, "unescaped < inside quoted string")
		case c == quote && quote != 0:
			return p.arenaSpan(a0), i + 1, nil
		case c == '&':
			r, n, err := p.reference(i)
			if err != nil {
				return span{}, 0, err
			}
			p.arena = utf8.AppendRune(p.arena, r)
			i += n
		case c == '\r':
			p.arena = append(p.arena, '\n')
			if i++; i < len(in) && in[i] == '\n' {
				i++
			}
		case c == ']' || c == '"' || c == '\'':
			if quote == 0 && bytes.HasPrefix(in[i:], []byte("]]>")) {
				return span{}, 0, p.syntaxError(i, "unescaped ]]> not in CDATA section")
			}
			p.arena = append(p.arena, c)
			i++
		default:
			n, err := p.char(i)
			if err != nil {
				return span{}, 0, err
			}
			p.arena = append(p.arena, in[i:i+n]...)
			i += n
		}
	}
	if quote != 0 {
		return span{}, 0, p.eof(i)
	}
	return p.arenaSpan(a0), i, nil
}

// arenaSpan is the arena from a0 to its end, in the string space.
func (p *xmlParser) arenaSpan(a0 int) span {
	n := int32(len(p.in))
	return span{n + int32(a0), n + int32(len(p.arena))}
}

// reference reads &name; or &#N; or &#xH; at in[amp] and returns the character.
// Only the five predefined entities exist: there is no DOCTYPE to declare more.
func (p *xmlParser) reference(amp int) (rune, int, error) {
	in := p.in
	i := amp + 1
	if i < len(in) && in[i] == '#' {
		i++
		base := rune(10)
		if i < len(in) && in[i] == 'x' {
			base = 16
			i++
		}
		digits, v := i, rune(0)
		for ; i < len(in); i++ {
			d := digitValue(in[i], base)
			if d < 0 {
				break
			}
			if v <= unicode.MaxRune {
				v = v*base + d
			}
		}
		switch {
		case i >= len(in):
			return 0, 0, p.eof(i)
		case in[i] != ';' || i == digits:
			return 0, 0, p.badEntity(amp, i)
		case !IsXMLChar(v):
			return 0, 0, p.strictError(amp, "character reference "+string(in[amp:i+1])+" is not a legal XML character")
		}
		return v, i + 1 - amp, nil
	}
	j := i
	for j < len(in) && (in[j] >= utf8.RuneSelf || nameByte[in[j]]) {
		j++
	}
	if j >= len(in) {
		return 0, 0, p.eof(j)
	}
	if in[j] == ';' {
		switch string(in[i:j]) {
		case "lt":
			return '<', j + 1 - amp, nil
		case "gt":
			return '>', j + 1 - amp, nil
		case "amp":
			return '&', j + 1 - amp, nil
		case "apos":
			return '\'', j + 1 - amp, nil
		case "quot":
			return '"', j + 1 - amp, nil
		}
	}
	return 0, 0, p.badEntity(amp, j)
}

// badEntity is the error of the reference at in[amp:end] (end is its ';' or
// the first byte that cannot continue it), worded like encoding/xml's.
func (p *xmlParser) badEntity(amp, end int) error {
	ent := clipString(string(p.in[amp:end])) + " (no semicolon)"
	if p.in[end] == ';' {
		ent = clipString(string(p.in[amp : end+1]))
	}
	return p.syntaxError(amp, "invalid character entity "+ent)
}

func digitValue(c byte, base rune) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// IsXMLChar reports whether r is a legal XML character: the Char production of XML 1.0 (no surrogates, no U+FFFE/U+FFFF).
func IsXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= unicode.MaxRune
}

// char checks the character at in[i], one that is not plain ASCII, and returns
// its length.
func (p *xmlParser) char(i int) (int, error) {
	c := p.in[i]
	if c < utf8.RuneSelf {
		if c == '\t' || c == '\n' || c == '\r' || c >= 0x20 {
			return 1, nil
		}
		return 0, p.strictError(i, fmt.Sprintf("illegal character code %U", rune(c)))
	}
	r, n := utf8.DecodeRune(p.in[i:])
	if r == utf8.RuneError && n == 1 {
		return 0, p.strictError(i, "invalid UTF-8")
	}
	if !IsXMLChar(r) {
		return 0, p.strictError(i, fmt.Sprintf("illegal character code %U", r))
	}
	return n, nil
}

// checkChars checks that in[start:end] holds only legal characters.
func (p *xmlParser) checkChars(start, end int) error {
	for i := start; i < end; {
		if c := p.in[i]; c >= 0x20 && c < utf8.RuneSelf {
			i++
			continue
		}
		n, err := p.char(i)
		if err != nil {
			return err
		}
		i += n
	}
	return nil
}

// cdata reads <![CDATA[ ... ]]> at in[lt]: its text is taken as written, line
// ends aside.
func (p *xmlParser) cdata(lt int) (int, error) {
	in := p.in
	start := lt + len("<![CDATA[")
	k := bytes.Index(in[start:], []byte("]]>"))
	if k < 0 {
		return 0, p.syntaxError(len(in), "unexpected end of input in CDATA section")
	}
	end := start + k
	if err := p.checkChars(start, end); err != nil {
		return 0, err
	}
	s := span{int32(start), int32(end)}
	if bytes.IndexByte(in[start:end], '\r') >= 0 {
		a0 := len(p.arena)
		p.arena = normalizeLineEnds(append(p.arena, in[start:end]...), a0)
		s = p.arenaSpan(a0)
	}
	p.addText(s)
	return end + len("]]>"), nil
}

// normalizeLineEnds rewrites "\r\n" and "\r" to "\n" in b[from:], in place.
func normalizeLineEnds(b []byte, from int) []byte {
	w := from
	for r := from; r < len(b); r++ {
		c := b[r]
		if c == '\r' {
			c = '\n'
			if r+1 < len(b) && b[r+1] == '\n' {
				r++
			}
		}
		b[w] = c
		w++
	}
	return b[:w]
}
