package xmlparse

import (
	"bytes"
	"slices"
)

var xmlNamespaceBytes = []byte(XMLNamespace)

// nsScope is the stack of prefix bindings in scope. Lookups scan it from the
// top while it is short; past nsLinearMax bindings a map takes over, so that a
// document declaring thousands of prefixes cannot make every lookup long.
type nsScope struct {
	bindings []nsBinding
	index    map[string]int32 // prefix -> its latest binding; nil while short
}

type nsBinding struct {
	prefix, uri span
	prev        int32 // with index: the binding of the same prefix this one hides, -1 for none
}

const nsLinearMax = 16

func (s *nsScope) reset() {
	s.bindings = s.bindings[:0]
	s.index = nil
}

func (s *nsScope) large() bool { return cap(s.bindings) > 1024 }

// pushNS binds prefix (a span of the input) to uri.
func (p *xmlParser) pushNS(prefix, uri span) {
	s := &p.ns
	if s.index == nil && len(s.bindings) >= nsLinearMax {
		s.index = make(map[string]int32, 2*nsLinearMax)
		for k := range s.bindings {
			s.indexBinding(p, int32(k))
		}
	}
	s.bindings = append(s.bindings, nsBinding{prefix: prefix, uri: uri, prev: -1})
	if s.index != nil {
		s.indexBinding(p, int32(len(s.bindings)-1))
	}
}

func (s *nsScope) indexBinding(p *xmlParser, k int32) {
	b := &s.bindings[k]
	key := string(p.in[b.prefix.start:b.prefix.end])
	if prev, ok := s.index[key]; ok {
		b.prev = prev
	}
	s.index[key] = k
}

// pop drops the bindings from mark on.
func (s *nsScope) pop(p *xmlParser, mark int32) {
	if s.index != nil {
		for k := len(s.bindings) - 1; k >= int(mark); k-- {
			b := s.bindings[k]
			key := p.in[b.prefix.start:b.prefix.end]
			if b.prev >= 0 {
				s.index[string(key)] = b.prev
			} else {
				delete(s.index, string(key))
			}
		}
	}
	s.bindings = s.bindings[:mark]
}

// lookupNS is the namespace bound to prefix; the xml prefix is always bound.
// The result is valid until the arena grows.
func (p *xmlParser) lookupNS(prefix []byte) ([]byte, bool) {
	s := &p.ns
	if s.index != nil {
		if k, ok := s.index[string(prefix)]; ok {
			return p.bytesOf(s.bindings[k].uri), true
		}
	} else {
		for k := len(s.bindings) - 1; k >= 0; k-- {
			b := &s.bindings[k]
			if bytes.Equal(p.in[b.prefix.start:b.prefix.end], prefix) {
				return p.bytesOf(b.uri), true
			}
		}
	}
	if string(prefix) == "xml" {
		return xmlNamespaceBytes, true
	}
	return nil, false
}

// bindNamespaces applies the namespace declarations among the attributes of the
// element name (whose '<' is at lt) and checks the Namespaces in XML 1.0 rules:
// every prefix declared, reserved prefixes and namespaces left alone, no empty
// prefixed declaration, and no two attributes with the same expanded name. It
// returns the scope mark to pop back to when the element ends.
func (p *xmlParser) bindNamespaces(lt int, name span, attr0 int) (int32, error) {
	in := p.in
	mark := int32(len(p.ns.bindings))
	attrs := p.attrs[attr0:]
	for k := range attrs {
		a := &attrs[k]
		an := in[a.name.start:a.name.end]
		if !bytes.HasPrefix(an, []byte("xmlns")) || len(an) > 5 && an[5] != ':' {
			continue
		}
		uri := p.bytesOf(a.value)
		if len(an) == 5 {
			if string(uri) == XMLNamespace || string(uri) == XMLNSNamespace {
				return 0, p.strictError(lt, "the default namespace cannot be "+string(uri))
			}
			continue
		}
		prefix := an[6:]
		switch {
		case len(uri) == 0:
			return 0, p.strictError(lt, "namespace prefix "+clipString(string(prefix))+" is declared with an empty URI")
		case string(prefix) == "xmlns" || string(uri) == XMLNSNamespace:
			return 0, p.strictError(lt, "the xmlns prefix and namespace cannot be declared")
		case (string(prefix) == "xml") != (string(uri) == XMLNamespace):
			return 0, p.strictError(lt, "the xml prefix belongs to "+XMLNamespace+" and that namespace to it")
		}
		if len(p.ns.bindings) == maxNamespaces {
			return 0, refuse(LimitExceeded, "more than %d namespace declarations are in scope at element <%s>", maxNamespaces, p.clip(name))
		}
		p.pushNS(span{a.name.start + 6, a.name.end}, a.value)
	}
	en := in[name.start:name.end]
	if c := bytes.IndexByte(en, ':'); c > 0 {
		if string(en[:c]) == "xmlns" {
			return 0, p.strictError(lt, "element <"+p.clip(name)+"> uses the reserved prefix xmlns")
		}
		if _, ok := p.lookupNS(en[:c]); !ok {
			return 0, p.strictError(lt, "namespace prefix "+clipString(string(en[:c]))+" of element <"+p.clip(name)+"> is not declared")
		}
	}
	for k := range attrs {
		an := in[attrs[k].name.start:attrs[k].name.end]
		if c := bytes.IndexByte(an, ':'); c > 0 && string(an[:c]) != "xmlns" {
			if _, ok := p.lookupNS(an[:c]); !ok {
				return 0, p.strictError(lt, "namespace prefix "+clipString(string(an[:c]))+" of attribute "+
					p.clip(attrs[k].name)+" is not declared")
			}
		}
	}
	if len(attrs) > 1 {
		if dup := p.duplicateAttr(attrs); dup >= 0 {
			return 0, p.strictError(lt, "attribute "+p.clip(attrs[dup].name)+" appears twice in element <"+p.clip(name)+">")
		}
	}
	return mark, nil
}

// attrKey is the expanded name of an attribute: namespace declarations by the
// prefix they declare, other prefixed attributes by namespace and local name.
type attrKey struct {
	kind         uint8 // 0: no namespace, 1: namespace declaration, 2: in a namespace
	space, local []byte
	attr         int
}

func (p *xmlParser) attrKeyOf(attrs []xattr, k int) attrKey {
	an := p.in[attrs[k].name.start:attrs[k].name.end]
	c := bytes.IndexByte(an, ':')
	switch {
	case string(an) == "xmlns":
		return attrKey{kind: 1, attr: k}
	case c < 0:
		return attrKey{local: an, attr: k}
	case string(an[:c]) == "xmlns":
		return attrKey{kind: 1, local: an[c+1:], attr: k}
	}
	uri, _ := p.lookupNS(an[:c])
	return attrKey{kind: 2, space: uri, local: an[c+1:], attr: k}
}

func compareAttrKeys(a, b attrKey) int {
	if a.kind != b.kind {
		return int(a.kind) - int(b.kind)
	}
	if c := bytes.Compare(a.space, b.space); c != 0 {
		return c
	}
	return bytes.Compare(a.local, b.local)
}

// duplicateAttr returns the index of an attribute whose expanded name an
// earlier one has, -1 when all differ: pairwise for a few, sorted for many.
func (p *xmlParser) duplicateAttr(attrs []xattr) int {
	if len(attrs) <= 8 {
		for i := 1; i < len(attrs); i++ {
			ki := p.attrKeyOf(attrs, i)
			for j := range i {
				if compareAttrKeys(ki, p.attrKeyOf(attrs, j)) == 0 {
					return i
				}
			}
		}
		return -1
	}
	keys := p.keys[:0]
	for k := range attrs {
		keys = append(keys, p.attrKeyOf(attrs, k))
	}
	slices.SortStableFunc(keys, compareAttrKeys)
	dup := -1
	for i := 1; i < len(keys); i++ {
		if compareAttrKeys(keys[i-1], keys[i]) == 0 {
			dup = keys[i].attr
			break
		}
	}
	clear(keys)
	p.keys = keys[:0]
	return dup
}
