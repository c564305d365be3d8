package wssec

import (
	"bufio"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// nsCursor answers the namespace questions of one verification with one xmlparse.Scope that it moves
// around the document: to stand at an element it pops the declarations of the elements it leaves and pushes
// those of the elements it enters, from their nearest common ancestor. Every declaration of the document is
// therefore read a small, fixed number of times per verification (the verifier visits the Envelope, the
// Security header, the Signature and each reference target in turn), instead of once per question from the
// root, and the Scope, the canonicalizer's scratch and its output buffer are allocated once, sized for the
// largest element, however many canonicalizations and lookups follow.
//
// A nil *nsCursor is valid: each question then builds its own scope (client side, tests).
type nsCursor struct {
	scope *xmlparse.Scope
	path  []*etree.Element // the elements whose declarations scope holds, outermost first
	marks []xmlparse.Mark  // marks[i]: the state before path[i] was pushed
	chain []*etree.Element // scratch of at

	c14n c14nScratch
}

// c14nScratch is what one canonicalization uses and leaves empty, kept between canonicalizations.
type c14nScratch struct {
	rendered *xmlparse.Scope
	decls    []nsBinding
	attrs    []c14nAttr
	bw       *bufio.Writer
}

func newNSCursor() *nsCursor {
	return &nsCursor{scope: xmlparse.NewScope(), c14n: c14nScratch{rendered: xmlparse.NewScope()}}
}

// at moves the cursor to el and returns the scope of the declarations in scope at el, el's own included.
// The scope is the cursor's: a caller may Push and Pop on it, as long as it pops back before the next at.
func (c *nsCursor) at(el *etree.Element) *xmlparse.Scope {
	if c == nil {
		return xmlparse.ScopeAt(el)
	}
	chain := c.chain[:0]
	for e := el; e != nil; e = e.Parent() {
		chain = append(chain, e)
	}
	// chain is el first; the common part with path is the longest prefix of path that matches it from the root.
	keep := 0
	for keep < len(c.path) && keep < len(chain) && c.path[keep] == chain[len(chain)-1-keep] {
		keep++
	}
	if keep < len(c.path) {
		c.scope.Pop(c.marks[keep])
		clear(c.path[keep:])
		c.path, c.marks = c.path[:keep], c.marks[:keep]
	}
	for i := len(chain) - 1 - keep; i >= 0; i-- {
		c.marks = append(c.marks, c.scope.Push(chain[i]))
		c.path = append(c.path, chain[i])
	}
	clear(chain)
	c.chain = chain[:0]
	return c.scope
}

// parentScope is at for el's parent; for a root without a parent, an empty scope.
func (c *nsCursor) parentScope(el *etree.Element) *xmlparse.Scope {
	if p := el.Parent(); p != nil {
		return c.at(p)
	}
	if c == nil {
		return xmlparse.NewScope()
	}
	return c.at(nil)
}

// is reports whether el is {ns}local.
func (c *nsCursor) is(el *etree.Element, ns, local string) bool {
	if c == nil {
		return is(el, ns, local)
	}
	if el == nil || el.Tag != local {
		return false
	}
	return c.at(el).Elem(el) == ns
}

// childElements returns el's element children that are {ns}local, reading each child's declarations only.
func (c *nsCursor) childElements(el *etree.Element, ns, local string) []*etree.Element {
	if c == nil {
		return childElements(el, ns, local)
	}
	var out []*etree.Element
	var scope *xmlparse.Scope
	for _, t := range el.Child {
		k, ok := t.(*etree.Element)
		if !ok || k.Tag != local {
			continue
		}
		if scope == nil {
			scope = c.at(el)
		}
		mark := scope.Push(k)
		if isIn(scope, k, ns, local) {
			out = append(out, k)
		}
		scope.Pop(mark)
	}
	return out
}
