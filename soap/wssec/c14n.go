package wssec

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strings"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// This file is an exclusive XML canonicalization 1.0 (without comments) of an element subtree, written over
// etree without mutating the tree: http://www.w3.org/TR/xml-exc-c14n/. The node set is always "the element,
// its attributes and namespace nodes, and all its descendants", which is what a same-document "#id" reference
// and SignedInfo both denote.

const nsXML = "http://www.w3.org/XML/1998/namespace"

var (
	errCommentInSigned = invalid("comments are not allowed in signed content")
	errPIInSigned      = invalid("processing instructions are not allowed in signed content")
	errDirective       = invalid("directives are not allowed in signed content")
)

// nsBinding is one prefix -> namespace URI pair; "" is the default namespace.
type nsBinding struct{ prefix, uri string }

func isNSDecl(a etree.Attr) bool {
	return a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns")
}

// c14nOptions selects what a canonicalization accepts.
type c14nOptions struct {
	// inclusive is the InclusiveNamespaces PrefixList; "#default" stands for the default namespace.
	inclusive []string
	// exclude is an element left out of the output (the enveloped-signature transform).
	exclude *etree.Element
	// strict refuses comments and processing instructions instead of dropping them; signed content must
	// not carry them because a consumer reading the tree would see text the signature does not cover.
	strict bool
	// maxBytes caps the output; 0 is c14nBudget of the element. Past it the canonicalization stops with
	// tooLarge (errC14NTooLarge when nil).
	maxBytes int64
	tooLarge *Error
	// work counts the canonicalization and stops it when its context is done; nil counts nothing.
	work *work
	// ns is the verification's namespace cursor, whose scope and scratch the canonicalization borrows (and
	// leaves as it found them); nil builds its own.
	ns *nsCursor
}

// canonicalizer keeps two namespace scopes, each a stack with an index: the declarations in scope, and
// the namespaces the output ancestors rendered. Every question is one lookup, so the cost is linear in
// elements times (attributes + PrefixList entries), whatever the number of declarations in scope. The
// namespace nodes and attributes of one start tag are collected in scratch slices reused from element to
// element (and, with a cursor, from one canonicalization to the next): an attribute costs no allocation.
type canonicalizer struct {
	w         *bufio.Writer
	limit     *limitWriter
	opt       c14nOptions
	inclusive []string // PrefixList with "#default" mapped to ""
	scope     *xmlparse.Scope
	refExtra  int64 // bytes of the character references written, beyond one for each
	*c14nScratch
}

// c14nAttr is an attribute of the start tag being written, with its namespace URI.
type c14nAttr struct {
	a   *etree.Attr
	uri string
}

// canonicalize writes the exclusive canonical form of el (in its place in the document) to w.
func canonicalize(w io.Writer, el *etree.Element, opt c14nOptions) error {
	if len(opt.inclusive) > maxPrefixList {
		return errPrefixList
	}
	limit := &limitWriter{w: w, left: opt.maxBytes}
	if limit.left <= 0 {
		limit.left, limit.chars = c14nBudget(el), true
	}
	var scratch *c14nScratch
	if opt.ns != nil {
		scratch = &opt.ns.c14n
	} else {
		scratch = &c14nScratch{rendered: xmlparse.NewScope()}
	}
	out := opt.work.c14nWriter(limit)
	if scratch.bw == nil {
		scratch.bw = bufio.NewWriterSize(out, 4096)
	} else {
		scratch.bw.Reset(out)
	}
	bw := scratch.bw
	defer bw.Reset(nil) // keep no reference to this canonicalization's writers
	c := &canonicalizer{w: bw, limit: limit, opt: opt, scope: opt.ns.parentScope(el), c14nScratch: scratch}
	for _, p := range opt.inclusive {
		if p == "#default" {
			p = ""
		}
		c.inclusive = append(c.inclusive, p)
	}
	err := c.element(el)
	if err == nil {
		err = bw.Flush()
	}
	opt.work.references(c.refExtra, w)
	if limit.exceeded {
		if opt.tooLarge != nil {
			return opt.tooLarge
		}
		return errC14NTooLarge
	}
	return err
}

// canonicalBytes is canonicalize into a byte slice.
func canonicalBytes(el *etree.Element, opt c14nOptions) ([]byte, error) {
	var b strings.Builder
	if err := canonicalize(&b, el, opt); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func (c *canonicalizer) element(el *etree.Element) error {
	if c.limit.exceeded {
		return errOverLimit
	}
	if err := c.opt.work.element(len(el.Attr)); err != nil {
		return err
	}
	scopeMark, renderedMark := c.scope.Push(el), c.rendered.Mark()
	defer func() { c.scope.Pop(scopeMark); c.rendered.Pop(renderedMark) }()

	// The attributes first, to know how many namespace nodes this element's attributes may render: the
	// scratch slices and the rendered scope are then grown once, to the size this element needs.
	c.decls, c.attrs = c.decls[:0], c.attrs[:0]
	if len(el.Attr) > cap(c.attrs) {
		c.attrs = slices.Grow(c.attrs, len(el.Attr))
	}
	prefixed := 0
	for i := range el.Attr {
		a := &el.Attr[i]
		if isNSDecl(*a) {
			continue
		}
		uri := ""
		switch a.Space {
		case "":
		case "xml":
			uri = nsXML
		default:
			u, ok := c.scope.Lookup(a.Space)
			if !ok || u == "" {
				return invalid("undeclared namespace prefix in signed content")
			}
			uri = u
			prefixed++
		}
		c.attrs = append(c.attrs, c14nAttr{a: a, uri: uri})
	}
	if prefixed > 0 { // the PrefixList (at most 64) renders mostly on the apex: appends suffice for it
		c.decls = slices.Grow(c.decls, 1+prefixed)
		c.rendered.Grow(1 + prefixed)
	}
	if err := c.render(el.Space, true); err != nil {
		return err
	}
	for _, a := range c.attrs {
		if a.uri != "" && a.a.Space != "xml" {
			if err := c.render(a.a.Space, true); err != nil {
				return err
			}
		}
	}
	for _, p := range c.inclusive {
		if err := c.render(p, false); err != nil {
			return err
		}
	}

	if len(c.decls) > 1 && !slices.IsSortedFunc(c.decls, compareDecls) {
		slices.SortFunc(c.decls, compareDecls)
	}
	if len(c.attrs) > 1 {
		if !slices.IsSortedFunc(c.attrs, compareAttrs) {
			slices.SortFunc(c.attrs, compareAttrs)
		}
		for i := 1; i < len(c.attrs); i++ {
			if compareAttrs(c.attrs[i-1], c.attrs[i]) == 0 {
				return invalid("duplicate attribute in signed content")
			}
		}
	}

	c.w.WriteByte('<')
	c.writeName(el.Space, el.Tag)
	for _, d := range c.decls {
		if d.prefix == "" {
			c.w.WriteString(` xmlns="`)
		} else {
			c.w.WriteString(" xmlns:")
			c.w.WriteString(d.prefix)
			c.w.WriteString(`="`)
		}
		c.escapeAttr(d.uri)
		c.w.WriteByte('"')
	}
	for _, a := range c.attrs {
		c.w.WriteByte(' ')
		c.writeName(a.a.Space, a.a.Key)
		c.w.WriteString(`="`)
		c.escapeAttr(a.a.Value)
		c.w.WriteByte('"')
	}
	clear(c.attrs) // the next element reuses the slice; keep no pointer into this one
	c.w.WriteByte('>')
	if err := c.children(el); err != nil {
		return err
	}
	c.w.WriteString("</")
	c.writeName(el.Space, el.Tag)
	c.w.WriteByte('>')
	return nil
}

func compareDecls(a, b nsBinding) int { return cmp.Compare(a.prefix, b.prefix) }

// compareAttrs orders attributes by namespace URI, then local name (an unqualified one has the empty URI).
func compareAttrs(a, b c14nAttr) int {
	if r := cmp.Compare(a.uri, b.uri); r != 0 {
		return r
	}
	return cmp.Compare(a.a.Key, b.a.Key)
}

// writeName writes prefix:local, or local alone for an empty prefix.
func (c *canonicalizer) writeName(prefix, local string) {
	if prefix != "" {
		c.w.WriteString(prefix)
		c.w.WriteByte(':')
	}
	c.w.WriteString(local)
}

func (c *canonicalizer) children(el *etree.Element) error {
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			if t == c.opt.exclude {
				continue
			}
			if err := c.element(t); err != nil {
				return err
			}
		case *etree.CharData:
			c.escapeText(t.Data)
		case *etree.Comment:
			if c.opt.strict {
				return errCommentInSigned
			}
		case *etree.ProcInst:
			if c.opt.strict {
				return errPIInSigned
			}
			c.w.WriteString("<?")
			c.w.WriteString(t.Target)
			if t.Inst != "" {
				c.w.WriteByte(' ')
				c.w.WriteString(t.Inst)
			}
			c.w.WriteString("?>")
		case *etree.Directive:
			return errDirective
		}
	}
	return nil
}

// render decides whether the namespace node for prefix is output on the current element: it is when its
// value differs from what the nearest output ancestor rendered (an unrendered default namespace counts as
// ""). utilized prefixes must be declared; PrefixList prefixes that are not in scope are skipped.
// A prefix asked about twice on one element is rendered once: the first time binds it in rendered.
func (c *canonicalizer) render(prefix string, utilized bool) error {
	if prefix == "xml" {
		return nil
	}
	uri, ok := c.scope.Lookup(prefix)
	if !ok && prefix != "" {
		if utilized {
			return invalid("undeclared namespace prefix in signed content")
		}
		return nil
	}
	if done, ok := c.rendered.Lookup(prefix); (ok && done == uri) || (!ok && prefix == "" && uri == "") {
		return nil
	}
	c.decls = append(c.decls, nsBinding{prefix, uri})
	c.rendered.Bind(prefix, uri)
	return nil
}

func qualified(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

func (c *canonicalizer) escapeText(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '\r':
			rep = "&#xD;"
		default:
			continue
		}
		c.w.WriteString(s[last:i])
		c.w.WriteString(rep)
		c.refExtra += int64(len(rep) - 1)
		if c.limit.chars {
			c.limit.left += int64(len(rep) - 1)
		}
		last = i + 1
	}
	c.w.WriteString(s[last:])
}

func (c *canonicalizer) escapeAttr(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '"':
			rep = "&quot;"
		case '\t':
			rep = "&#x9;"
		case '\n':
			rep = "&#xA;"
		case '\r':
			rep = "&#xD;"
		default:
			continue
		}
		c.w.WriteString(s[last:i])
		c.w.WriteString(rep)
		c.refExtra += int64(len(rep) - 1)
		if c.limit.chars {
			c.limit.left += int64(len(rep) - 1)
		}
		last = i + 1
	}
	c.w.WriteString(s[last:])
}
