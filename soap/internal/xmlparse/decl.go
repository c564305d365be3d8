package xmlparse

import (
	"bytes"
	"unicode/utf8"
)

// xmlDecl reads the XML declaration at the start of the input:
// <?xml version="1.0" (encoding="UTF-8")? (standalone="yes"|"no")? ?>
func (p *xmlParser) xmlDecl() (int, error) {
	in := p.in
	instStart := skipSpace(in, len("<?xml"))
	if instStart == len("<?xml") && in[instStart] != '?' {
		return 0, p.strictError(instStart, "malformed XML declaration")
	}
	end := bytes.Index(in, []byte("?>"))
	if end < 0 {
		return 0, p.eof(len(in))
	}
	inst := in[instStart:end]
	d := declReader{b: inst}
	version, ok := d.param("version", true, false)
	if !ok {
		return 0, p.strictError(instStart+d.i, "the XML declaration needs a version: <?xml version=\"1.0\" encoding=\"UTF-8\"?>")
	}
	if string(version) != "1.0" {
		return 0, refuse(Forbidden, "XML version %q is not supported: send XML 1.0", clipString(string(version)))
	}
	if enc, found := d.param("encoding", false, true); found && !EqualFoldASCII(enc, "utf-8") {
		return 0, refuse(Forbidden, "the XML declaration says encoding %q: send UTF-8", clipString(string(enc)))
	}
	if sa, found := d.param("standalone", false, true); found && string(sa) != "yes" && string(sa) != "no" {
		return 0, p.strictError(instStart+d.i, "standalone must be \"yes\" or \"no\" in the XML declaration")
	}
	if d.i = skipSpace(inst, d.i); d.i != len(inst) || d.bad {
		return 0, p.strictError(instStart+d.i, "malformed XML declaration")
	}
	if err := p.checkChars(instStart, end); err != nil {
		return 0, err
	}
	p.procInsts++
	p.addNode(xnode{kind: xProcInst, a: span{2, 5}, b: span{int32(instStart), int32(end)}})
	return end + 2, nil
}

// isXMLDecl reports whether in starts with an XML declaration (and not with a
// processing instruction whose target merely starts with "xml").
func isXMLDecl(in []byte) bool {
	return len(in) > 5 && bytes.HasPrefix(in, []byte("<?xml")) && in[5] < utf8.RuneSelf && !nameByte[in[5]]
}

// declReader reads the pseudo-attributes of the XML declaration in order.
type declReader struct {
	b   []byte
	i   int
	bad bool
}

// param reads ` name="value"` (or single quotes) when it comes next, after
// white space when space is set; found is false when something else comes next.
func (d *declReader) param(name string, required, space bool) (value []byte, found bool) {
	j := skipSpace(d.b, d.i)
	if space && j == d.i || !bytes.HasPrefix(d.b[j:], []byte(name)) {
		if required {
			d.bad = true
		}
		return nil, false
	}
	j = skipSpace(d.b, j+len(name))
	if j >= len(d.b) || d.b[j] != '=' {
		d.bad = true
		return nil, false
	}
	j = skipSpace(d.b, j+1)
	if j >= len(d.b) || d.b[j] != '"' && d.b[j] != '\'' {
		d.bad = true
		return nil, false
	}
	k := bytes.IndexByte(d.b[j+1:], d.b[j])
	if k < 0 {
		d.bad = true
		return nil, false
	}
	d.i = j + 1 + k + 1
	return d.b[j+1 : j+1+k], true
}

// EqualFoldASCII reports whether s is lower, ASCII letters compared without case (unlike
// strings.EqualFold, no Unicode folding: the Kelvin sign is not "k").
func EqualFoldASCII[T string | []byte](s T, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
