package xmlparse

import (
	"bytes"
	"sync"

	"github.com/beevik/etree"
)

// xmlParser is the one pass over untrusted request bytes. It is a strict,
// non-validating XML 1.0 parser: it enforces the limits while it reads (a
// DOCTYPE or any other directive, processing instructions other than the XML
// declaration, depth, element count), checks well-formedness (matching tags,
// unique attributes, declared namespace prefixes, legal names and characters,
// valid UTF-8, only the five predefined entities and character references) and
// records the document as flat nodes, then builds the etree document etree's own
// parser would build for the same bytes in a handful of allocations.
//
// It allocates O(input): nodes, attributes and decoded text are at most a small
// constant per input byte, and a parser is reused through parserPool.
type xmlParser struct {
	in          []byte
	maxDepth    int
	maxElements int

	nodes []xnode
	attrs []xattr
	arena []byte // decoded text (references, line ends): string space beyond len(in)
	open  []openElem
	ns    nsScope
	keys  []attrKey // scratch for the unique-attribute check

	elements, texts, comments, procInsts int
	docKids                              int32
}

// span is a string in the parser's string space: offsets below len(in) are in
// the input, offsets from len(in) on are in the arena.
type span struct{ start, end int32 }

type xkind uint8

const (
	xElement xkind = iota
	xText
	xComment
	xProcInst
)

// xnode is one token of the document, in document order.
type xnode struct {
	kind   xkind
	parent int32 // ordinal of the parent element, -1 for the document
	ord    int32 // element: its ordinal among elements
	a, b   span  // element: name; text and comment: data; PI: target, instruction
	attr0  int32 // element: its first attribute in attrs
	nattr  int32
	nkids  int32
}

type xattr struct{ name, value span }

type openElem struct {
	node   int32
	name   span
	nsMark int32 // namespace bindings in scope before this element's declarations
}

// Limits no honest SOAP message comes near. They bound the work any later
// per-element or per-prefix step can be made to do, and are checked while
// reading, before the element is built.
const (
	maxAttributes = 256 // attributes of one element, namespace declarations included
	maxNamespaces = 256 // namespace declarations in scope at one element
)

// maxXMLInput keeps every offset of the string space (input plus arena, at most
// twice the input) in an int32.
const maxXMLInput = 1 << 30

var parserPool = sync.Pool{New: func() any { return new(xmlParser) }}

// Parse parses unverified (a byte order mark already removed) into a new
// document, refusing more than maxDepth levels of elements and more than
// maxElements elements. Every refusal is an *Error.
func Parse(unverified []byte, maxDepth, maxElements int) (*etree.Document, error) {
	p := parserPool.Get().(*xmlParser)
	p.reset(unverified, maxDepth, maxElements)
	var doc *etree.Document
	err := p.parse()
	if err == nil {
		doc = p.build()
	}
	p.release()
	return doc, err
}

func (p *xmlParser) reset(in []byte, maxDepth, maxElements int) {
	p.in, p.maxDepth, p.maxElements = in, maxDepth, maxElements
	p.nodes, p.attrs, p.arena, p.open, p.keys = p.nodes[:0], p.attrs[:0], p.arena[:0], p.open[:0], p.keys[:0]
	p.ns.reset()
	p.elements, p.texts, p.comments, p.procInsts, p.docKids = 0, 0, 0, 0, 0
}

// release returns p to the pool, unless a large document grew its slices (one
// huge request must not pin memory for ever).
func (p *xmlParser) release() {
	p.in = nil
	if cap(p.nodes) > 4096 || cap(p.attrs) > 4096 || cap(p.keys) > 4096 || cap(p.arena) > 64<<10 || p.ns.large() {
		return
	}
	parserPool.Put(p)
}

func (p *xmlParser) parse() error {
	in := p.in
	if len(in) >= maxXMLInput {
		return refuse(LimitExceeded, "XML document is too large")
	}
	i := 0
	if isXMLDecl(in) {
		var err error
		if i, err = p.xmlDecl(); err != nil {
			return err
		}
	}
	for i < len(in) {
		var err error
		switch {
		case in[i] != '<' && len(p.open) == 0:
			i, err = p.prologText(i)
		case in[i] != '<':
			i, err = p.text(i)
		case i+1 >= len(in):
			err = p.eof(len(in))
		case in[i+1] == '/':
			i, err = p.endTag(i)
		case in[i+1] == '?':
			err = p.procInst(i)
		case in[i+1] == '!':
			i, err = p.bang(i)
		default:
			i, err = p.startTag(i)
		}
		if err != nil {
			return err
		}
	}
	if n := len(p.open); n > 0 {
		return p.syntaxError(len(in), "unexpected end of input: <"+p.clip(p.open[n-1].name)+"> is not closed")
	}
	if p.elements == 0 {
		return refuse(Malformed, "XML has no root element")
	}
	return nil
}

// addNode appends n as the next child of the innermost open element, or of the
// document.
func (p *xmlParser) addNode(n xnode) {
	n.parent = -1
	if k := len(p.open); k > 0 {
		parent := &p.nodes[p.open[k-1].node]
		parent.nkids++
		n.parent = parent.ord
	} else {
		p.docKids++
	}
	p.nodes = append(p.nodes, n)
}

// startTag reads <name attr="value" ...> or <name .../> at in[i] == '<'.
func (p *xmlParser) startTag(lt int) (int, error) {
	in := p.in
	depth := len(p.open) + 1
	p.elements++
	switch {
	case depth == 1 && p.elements > 1:
		return 0, refuse(Malformed, "XML has more than one root element")
	case depth > p.maxDepth:
		return 0, refuse(LimitExceeded, "XML nesting exceeds %d levels", p.maxDepth)
	case p.elements > p.maxElements:
		return 0, refuse(LimitExceeded, "XML has more than %d elements", p.maxElements)
	}
	end, err := p.name(lt + 1)
	if err != nil {
		return 0, err
	}
	if end == lt+1 {
		return 0, p.syntaxError(lt, "expected element name after <")
	}
	name := span{int32(lt + 1), int32(end)}
	attr0 := len(p.attrs)
	i, empty := end, false
	for {
		j := skipSpace(in, i)
		if j >= len(in) {
			return 0, p.eof(j)
		}
		if c := in[j]; c == '>' || c == '/' {
			if c == '/' {
				if j+1 >= len(in) {
					return 0, p.eof(j + 1)
				}
				if in[j+1] != '>' {
					return 0, p.syntaxError(j, "expected /> in element <"+p.clip(name)+">")
				}
				empty, j = true, j+1
			}
			i = j + 1
			break
		}
		if j == i {
			return 0, p.strictError(j, "expected whitespace, an attribute, /> or > in element <"+p.clip(name)+">")
		}
		if len(p.attrs)-attr0 == maxAttributes {
			return 0, refuse(LimitExceeded, "element <%s> has more than %d attributes", p.clip(name), maxAttributes)
		}
		if i, err = p.attribute(j, name); err != nil {
			return 0, err
		}
	}
	nsMark, err := p.bindNamespaces(lt, name, attr0)
	if err != nil {
		return 0, err
	}
	ord := int32(p.elements - 1)
	p.addNode(xnode{kind: xElement, ord: ord, a: name, attr0: int32(attr0), nattr: int32(len(p.attrs) - attr0)})
	if empty {
		p.ns.pop(p, nsMark)
	} else {
		p.open = append(p.open, openElem{node: int32(len(p.nodes) - 1), name: name, nsMark: nsMark})
	}
	return i, nil
}

// attribute reads name="value" at in[i], the start of the name.
func (p *xmlParser) attribute(i int, elem span) (int, error) {
	in := p.in
	end, err := p.name(i)
	if err != nil {
		return 0, err
	}
	if end == i {
		return 0, p.syntaxError(i, "expected attribute name in element <"+p.clip(elem)+">")
	}
	name := span{int32(i), int32(end)}
	j := skipSpace(in, end)
	if j >= len(in) {
		return 0, p.eof(j)
	}
	if in[j] != '=' {
		return 0, p.syntaxError(j, "attribute name without = in element <"+p.clip(elem)+">")
	}
	j = skipSpace(in, j+1)
	if j >= len(in) {
		return 0, p.eof(j)
	}
	if q := in[j]; q != '"' && q != '\'' {
		return 0, p.syntaxError(j, "unquoted or missing attribute value in element <"+p.clip(elem)+">")
	}
	value, next, err := p.attrValue(j + 1)
	if err != nil {
		return 0, err
	}
	p.attrs = append(p.attrs, xattr{name: name, value: value})
	return next, nil
}

// endTag reads </name> at in[i] == '<' and closes the innermost open element.
func (p *xmlParser) endTag(lt int) (int, error) {
	in := p.in
	end, err := p.name(lt + 2)
	if err != nil {
		return 0, err
	}
	if end == lt+2 {
		return 0, p.syntaxError(lt, "expected element name after </")
	}
	name := span{int32(lt + 2), int32(end)}
	j := skipSpace(in, end)
	if j >= len(in) {
		return 0, p.eof(j)
	}
	if in[j] != '>' {
		return 0, p.syntaxError(j, "invalid characters between </"+p.clip(name)+" and >")
	}
	k := len(p.open)
	if k == 0 {
		return 0, p.syntaxError(lt, "unexpected end tag </"+p.clip(name)+">")
	}
	top := p.open[k-1]
	if !bytes.Equal(in[top.name.start:top.name.end], in[name.start:name.end]) {
		return 0, p.syntaxError(lt, "end tag </"+p.clip(name)+"> does not match start tag <"+p.clip(top.name)+">")
	}
	p.ns.pop(p, top.nsMark)
	p.open = p.open[:k-1]
	return j + 1, nil
}

// bang reads what starts with <!: a comment, a CDATA section, or a directive,
// which is refused at once.
func (p *xmlParser) bang(lt int) (int, error) {
	in := p.in
	rest := in[lt+2:]
	switch {
	case bytes.HasPrefix(rest, []byte("--")):
		return p.comment(lt)
	case bytes.HasPrefix(rest, []byte("[CDATA[")):
		if len(p.open) == 0 {
			return 0, refuse(Strict, "text outside the root element")
		}
		return p.cdata(lt)
	case len(rest) > 0 && rest[0] == '-':
		if len(rest) == 1 {
			return 0, p.eof(len(in))
		}
		return 0, p.syntaxError(lt, "invalid sequence <!- not part of <!--")
	case len(rest) > 0 && rest[0] == '[':
		if len(rest) < len("[CDATA[") && bytes.HasPrefix([]byte("[CDATA["), rest) {
			return 0, p.eof(len(in))
		}
		return 0, p.syntaxError(lt, "invalid <![ sequence")
	}
	if bytes.HasPrefix(rest[skipSpace(rest, 0):], []byte("DOCTYPE")) {
		return 0, refuse(Forbidden, "DOCTYPE is not allowed")
	}
	return 0, refuse(Forbidden, "XML directives are not allowed")
}

// comment reads <!-- ... --> at in[lt]; "--" may only end it.
func (p *xmlParser) comment(lt int) (int, error) {
	in := p.in
	start := lt + 4
	k := bytes.Index(in[start:], []byte("--"))
	if k < 0 {
		return 0, p.eof(len(in))
	}
	end := start + k
	if end+2 >= len(in) {
		return 0, p.eof(len(in))
	}
	if in[end+2] != '>' {
		return 0, p.syntaxError(end, `invalid sequence "--" not allowed in comments`)
	}
	if err := p.checkChars(start, end); err != nil {
		return 0, err
	}
	// Like encoding/xml, comment text is kept as written (no line-end normalization).
	p.comments++
	p.addNode(xnode{kind: xComment, a: span{int32(start), int32(end)}})
	return end + 3, nil
}

// procInst refuses a processing instruction; the XML declaration at the very
// start was read by xmlDecl.
func (p *xmlParser) procInst(lt int) error {
	end, err := p.name(lt + 2)
	if err == nil && string(p.in[lt+2:end]) == "xml" {
		return refuse(Forbidden, "the XML declaration must come first")
	}
	return refuse(Forbidden, "processing instructions are not allowed")
}

// prologText reads text outside the root element: white space only.
func (p *xmlParser) prologText(i int) (int, error) {
	j := skipSpace(p.in, i)
	if j < len(p.in) && p.in[j] != '<' {
		return 0, refuse(Strict, "text outside the root element")
	}
	s := span{int32(i), int32(j)}
	if bytes.IndexByte(p.in[i:j], '\r') >= 0 {
		a0 := len(p.arena)
		p.arena = normalizeLineEnds(append(p.arena, p.in[i:j]...), a0)
		s = p.arenaSpan(a0)
	}
	p.addText(s)
	return j, nil
}

func (p *xmlParser) addText(s span) {
	p.texts++
	p.addNode(xnode{kind: xText, a: s})
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpaceByte(b[i]) {
		i++
	}
	return i
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// syntaxError is a well-formedness error at input offset off, with its line
// and column (in characters) so that a one-line envelope still points at it.
func (p *xmlParser) syntaxError(off int, msg string) *Error {
	return p.errorAt(Malformed, off, msg)
}

// strictError is syntaxError for a rule lenient parsers do not check (Strict).
func (p *xmlParser) strictError(off int, msg string) *Error {
	return p.errorAt(Strict, off, msg)
}

func (p *xmlParser) errorAt(kind Kind, off int, msg string) *Error {
	line, col := position(p.in, off)
	return &Error{Kind: kind, Msg: "XML is not well-formed: " + msg, Line: line, Column: col}
}

func (p *xmlParser) eof(off int) *Error { return p.syntaxError(off, "unexpected end of input") }

func position(in []byte, off int) (line, col int) {
	off = min(off, len(in))
	before := in[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + len(bytes.Runes(before[lineStart:]))
}

// clip is a name or other token from the input, shortened for a message.
func (p *xmlParser) clip(s span) string { return clipString(string(p.bytesOf(s))) }

func clipString(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// bytesOf is the text of s; an arena slice is valid until the next append.
func (p *xmlParser) bytesOf(s span) []byte {
	if n := int32(len(p.in)); s.start >= n {
		return p.arena[s.start-n : s.end-n]
	}
	return p.in[s.start:s.end]
}
