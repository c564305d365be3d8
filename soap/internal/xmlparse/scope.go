package xmlparse

import (
	"slices"
	"sync/atomic"

	"github.com/beevik/etree"
)

// The namespaces XML reserves for the xml and xmlns prefixes.
const (
	XMLNamespace   = "http://www.w3.org/XML/1998/namespace"
	XMLNSNamespace = "http://www.w3.org/2000/xmlns/"
)

// Scope is the set of namespace bindings in scope at one element of an etree
// tree, from prefix ("" for the default namespace) to URI. Each declaration is
// read once, when its element is pushed, so that resolving a name costs one
// lookup however many declarations are in scope; etree's own NamespaceURI
// instead scans every attribute of every ancestor on every call.
//
// The bindings are a stack (Pop truncates it); lookups scan it from the top
// while it is short, and past scopeLinearMax bindings an index from prefix to
// its latest binding takes over. A binding costs two string headers and an
// index entry, never a copy of its text, and a Scope reused after Pop keeps
// its capacity: a verifier that moves one Scope around a document allocates
// for the most bindings in scope at once, not for every move. A Scope is not
// safe for concurrent use.
type Scope struct {
	bindings []scopeBinding
	index    map[string]int32 // prefix -> its latest binding; nil while short
}

type scopeBinding struct {
	prefix, uri string
	prev        int32 // with index: the binding of the same prefix this one hides, -1 for none
}

// scopeLinearMax is how many bindings a Scope scans before it builds its index.
const scopeLinearMax = 16

// probes counts map lookups and attributes read by Push, for tests that count
// the work done on hostile input.
var probes atomic.Int64

// Probes is the number of namespace lookups and attribute reads every Scope
// has made so far. Tests compare it across inputs of growing size.
func Probes() int64 { return probes.Load() }

// NewScope returns an empty scope (only the xml prefix bound).
func NewScope() *Scope { return &Scope{} }

// ScopeAt returns the bindings in scope at el: its ancestors' declarations and
// its own, the nearest winning. It reads each ancestor once and sizes the
// scope for all their declarations before binding any.
func ScopeAt(el *etree.Element) *Scope {
	var chain []*etree.Element
	decls := 0
	for e := el; e != nil; e = e.Parent() {
		chain = append(chain, e)
		decls += countDecls(e)
	}
	s := NewScope()
	s.Grow(decls)
	for i := len(chain) - 1; i >= 0; i-- {
		s.Push(chain[i])
	}
	return s
}

func isDecl(a *etree.Attr) bool {
	return a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns"
}

func countDecls(el *etree.Element) int {
	n := 0
	for i := range el.Attr {
		if isDecl(&el.Attr[i]) {
			n++
		}
	}
	return n
}

// Grow makes room for n more bindings, so that binding them neither copies the
// stack nor rehashes the index on the way.
func (s *Scope) Grow(n int) {
	if n <= 0 {
		return
	}
	s.bindings = slices.Grow(s.bindings, n)
	if total := len(s.bindings) + n; s.index == nil && total > scopeLinearMax {
		s.index = make(map[string]int32, total)
		for k := range s.bindings {
			s.indexBinding(int32(k))
		}
	}
}

func (s *Scope) indexBinding(k int32) {
	b := &s.bindings[k]
	b.prev = -1
	if prev, ok := s.index[b.prefix]; ok {
		b.prev = prev
	}
	s.index[b.prefix] = k
}

// Mark is a state of a Scope to return to with Pop.
type Mark int

// Push adds el's namespace declarations and returns the mark to Pop back to
// when el ends.
func (s *Scope) Push(el *etree.Element) Mark {
	m := Mark(len(s.bindings))
	probes.Add(int64(len(el.Attr)))
	if len(el.Attr) > 1 {
		s.Grow(countDecls(el))
	}
	for i := range el.Attr {
		a := &el.Attr[i]
		switch {
		case a.Space == "xmlns":
			s.Bind(a.Key, a.Value)
		case a.Space == "" && a.Key == "xmlns":
			s.Bind("", a.Value)
		}
	}
	return m
}

// Bind binds prefix to uri until the Pop to a mark taken before it.
func (s *Scope) Bind(prefix, uri string) {
	if s.index == nil && len(s.bindings) >= scopeLinearMax {
		s.Grow(1)
	}
	s.bindings = append(s.bindings, scopeBinding{prefix: prefix, uri: uri, prev: -1})
	if s.index != nil {
		s.indexBinding(int32(len(s.bindings) - 1))
	}
}

// Mark is the current state, to Pop back to.
func (s *Scope) Mark() Mark { return Mark(len(s.bindings)) }

// Pop undoes the bindings made since mark.
func (s *Scope) Pop(mark Mark) {
	if s.index != nil {
		for k := len(s.bindings) - 1; k >= int(mark); k-- {
			b := &s.bindings[k]
			if b.prev >= 0 {
				s.index[b.prefix] = b.prev
			} else {
				delete(s.index, b.prefix)
			}
		}
	}
	clear(s.bindings[mark:]) // drop the references to the document's strings
	s.bindings = s.bindings[:mark]
}

// Len is the number of bindings in scope (shadowed ones not counted).
func (s *Scope) Len() int {
	if s.index != nil {
		return len(s.index)
	}
	n := 0
	for k := range s.bindings {
		if s.latest(s.bindings[k].prefix) == k {
			n++
		}
	}
	return n
}

// latest is the index of prefix's nearest binding, -1 when it has none.
func (s *Scope) latest(prefix string) int {
	if s.index != nil {
		if k, ok := s.index[prefix]; ok {
			return int(k)
		}
		return -1
	}
	for k := len(s.bindings) - 1; k >= 0; k-- {
		if s.bindings[k].prefix == prefix {
			return k
		}
	}
	return -1
}

// Lookup is the URI bound to prefix. The xml prefix is always bound.
func (s *Scope) Lookup(prefix string) (string, bool) {
	probes.Add(1)
	if k := s.latest(prefix); k >= 0 {
		return s.bindings[k].uri, true
	}
	if prefix == "xml" {
		return XMLNamespace, true
	}
	return "", false
}

// Elem is the namespace URI of el, whose declarations s holds: the URI of its
// prefix, or the default namespace; "" when there is none.
func (s *Scope) Elem(el *etree.Element) string {
	uri, _ := s.Lookup(el.Space)
	return uri
}

// Attr is the namespace URI of a, an attribute of the element whose
// declarations s holds; an unprefixed attribute is in no namespace.
func (s *Scope) Attr(a *etree.Attr) string {
	if a.Space == "" {
		return ""
	}
	if a.Space == "xmlns" {
		return XMLNSNamespace
	}
	uri, _ := s.Lookup(a.Space)
	return uri
}

// ElemNS is the namespace URI of el alone. It reads el's ancestors up to the
// nearest declaration of its prefix, so it is for a few elements; to resolve
// the children of one element, push them on the ScopeAt of their parent.
func ElemNS(el *etree.Element) string {
	prefix := el.Space
	for e := el; e != nil; e = e.Parent() {
		probes.Add(int64(len(e.Attr)))
		for _, a := range e.Attr {
			if prefix == "" && a.Space == "" && a.Key == "xmlns" || prefix != "" && a.Space == "xmlns" && a.Key == prefix {
				return a.Value
			}
		}
	}
	if prefix == "xml" {
		return XMLNamespace
	}
	return ""
}
