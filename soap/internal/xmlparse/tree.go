package xmlparse

import (
	"strings"

	"github.com/beevik/etree"
)

// build turns the parsed nodes into the etree document etree.ReadFromBytes
// builds for the same input: the same tokens (one CharData per text run or
// CDATA section, comments, the XML declaration), prefixes kept in Space, and
// namespace declarations kept as attributes. It allocates one string for all
// text and one slice per token type, never one object per node; every Child and
// Attr slice is capped at its length, so appending to one later copies it
// rather than writing into a neighbour's.
func (p *xmlParser) build() *etree.Document {
	var sb strings.Builder
	sb.Grow(len(p.in) + len(p.arena))
	sb.Write(p.in)
	sb.Write(p.arena)
	all := sb.String()
	str := func(s span) string { return all[s.start:s.end] }

	doc := etree.NewDocument()
	tokens := make([]etree.Token, len(p.nodes))
	elems := make([]etree.Element, p.elements)
	attrs := make([]etree.Attr, len(p.attrs))
	var texts []etree.CharData
	var comments []etree.Comment
	var procInsts []etree.ProcInst
	if p.texts > 0 {
		texts = make([]etree.CharData, p.texts)
	}
	if p.comments > 0 {
		comments = make([]etree.Comment, p.comments)
	}
	if p.procInsts > 0 {
		procInsts = make([]etree.ProcInst, p.procInsts)
	}
	off := int(p.docKids)
	doc.Child = tokens[:0:off]
	for i := range p.nodes {
		n := &p.nodes[i]
		parent := &doc.Element
		if n.parent >= 0 {
			parent = &elems[n.parent]
		}
		switch n.kind {
		case xElement:
			e := &elems[n.ord]
			e.Space, e.Tag = splitQName(str(n.a))
			e.Child = tokens[off:off:(off + int(n.nkids))]
			off += int(n.nkids)
			a0, a1 := int(n.attr0), int(n.attr0+n.nattr)
			for k := a0; k < a1; k++ {
				// CreateAttr is the only way to set an attribute's element; with
				// an empty Attr it appends in place, in the shared slice.
				e.Attr = attrs[k:k:a1]
				e.CreateAttr(str(p.attrs[k].name), str(p.attrs[k].value))
			}
			e.Attr = attrs[a0:a1:a1]
			parent.AddChild(e)
		case xText:
			t := &texts[0]
			texts = texts[1:]
			t.SetData(str(n.a)) // SetData, unlike the Data field, sets the white-space flag
			parent.AddChild(t)
		case xComment:
			c := &comments[0]
			comments = comments[1:]
			c.Data = str(n.a)
			parent.AddChild(c)
		case xProcInst:
			pi := &procInsts[0]
			procInsts = procInsts[1:]
			pi.Target, pi.Inst = str(n.a), str(n.b)
			parent.AddChild(pi)
		}
	}
	return doc
}

func splitQName(s string) (space, local string) {
	if c := strings.IndexByte(s, ':'); c >= 0 {
		return s[:c], s[c+1:]
	}
	return "", s
}
