package xmlparse

import (
	"sync/atomic"

	"github.com/beevik/etree"
)

// The namespaces XML reserves for the xml and xmlns prefixes.
const (
	XMLNamespace   = "http://www.w3.org/XML/1998/namespace"
	XMLNSNamespace = "http://www.w3.org/2000/xmlns/"
)

// Scope is the set of namespace bindings in scope at one element of an etree
// tree, as a map from prefix ("" for the default namespace) to URI. Each
// declaration is read once, when its element is pushed, so that resolving a
// name costs one map lookup however many declarations are in scope; etree's
// own NamespaceURI instead scans every attribute of every ancestor on every
// call. A Scope is not safe for concurrent use.
type Scope struct {
	m    map[string]string
	undo []undoEntry
}

type undoEntry struct {
	prefix, uri string
	had         bool
}

// probes counts map lookups and attributes read by Push, for tests that count
// the work done on hostile input.
var probes atomic.Int64

// Probes is the number of namespace lookups and attribute reads every Scope
// has made so far. Tests compare it across inputs of growing size.
func Probes() int64 { return probes.Load() }

// NewScope returns an empty scope (only the xml prefix bound).
func NewScope() *Scope { return &Scope{m: make(map[string]string)} }

// ScopeAt returns the bindings in scope at el: its ancestors' declarations and
// its own, the nearest winning. It reads each ancestor once.
func ScopeAt(el *etree.Element) *Scope {
	var chain []*etree.Element
	for e := el; e != nil; e = e.Parent() {
		chain = append(chain, e)
	}
	s := NewScope()
	for i := len(chain) - 1; i >= 0; i-- {
		s.Push(chain[i])
	}
	return s
}

// Mark is a state of a Scope to return to with Pop.
type Mark int

// Push adds el's namespace declarations and returns the mark to Pop back to
// when el ends.
func (s *Scope) Push(el *etree.Element) Mark {
	m := Mark(len(s.undo))
	probes.Add(int64(len(el.Attr)))
	for _, a := range el.Attr {
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
	old, had := s.m[prefix]
	s.undo = append(s.undo, undoEntry{prefix: prefix, uri: old, had: had})
	s.m[prefix] = uri
}

// Mark is the current state, to Pop back to.
func (s *Scope) Mark() Mark { return Mark(len(s.undo)) }

// Pop undoes the bindings made since mark.
func (s *Scope) Pop(mark Mark) {
	for k := len(s.undo) - 1; k >= int(mark); k-- {
		u := s.undo[k]
		if u.had {
			s.m[u.prefix] = u.uri
		} else {
			delete(s.m, u.prefix)
		}
	}
	s.undo = s.undo[:mark]
}

// Len is the number of bindings in scope (shadowed ones not counted).
func (s *Scope) Len() int { return len(s.m) }

// Lookup is the URI bound to prefix. The xml prefix is always bound.
func (s *Scope) Lookup(prefix string) (string, bool) {
	probes.Add(1)
	uri, ok := s.m[prefix]
	if !ok && prefix == "xml" {
		return XMLNamespace, true
	}
	return uri, ok
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
