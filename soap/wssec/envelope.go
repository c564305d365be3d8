package wssec

import (
	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// SOAP envelope namespaces and the roles that address the ultimate receiver.
const (
	nsSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12 = "http://www.w3.org/2003/05/soap-envelope"

	actorNext11          = "http://schemas.xmlsoap.org/soap/actor/next"
	roleNext12           = "http://www.w3.org/2003/05/soap-envelope/role/next"
	roleUltimateReceiver = "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
)

// envelope is the verified skeleton of a SOAP message.
type envelope struct {
	ns       string // SOAP 1.1 or 1.2 envelope namespace
	root     *etree.Element
	header   *etree.Element // nil when absent
	body     *etree.Element
	security *etree.Element // the one wsse:Security header for us (nil until selected)
	cursor   *nsCursor      // answers every namespace question about the document
}

// is reports whether el is {ns}local. It resolves el's prefix by reading its ancestors, once: for a few
// elements only; to test every child of one element use childElements or a Scope.
func is(el *etree.Element, ns, local string) bool {
	return el != nil && el.Tag == local && xmlparse.ElemNS(el) == ns
}

// isIn is is for el, whose declarations scope holds.
func isIn(scope *xmlparse.Scope, el *etree.Element, ns, local string) bool {
	return el.Tag == local && scope.Elem(el) == ns
}

// parseEnvelope checks the Envelope/Header/Body skeleton: one Body, at most one Header before it, both direct
// children of the root Envelope.
func parseEnvelope(doc *etree.Document) (*envelope, error) {
	root := doc.Root()
	if root == nil || root.Tag != "Envelope" {
		return nil, invalid("not a SOAP envelope")
	}
	cur := newNSCursor()
	scope := cur.at(root)
	env := &envelope{root: root, ns: scope.Elem(root), cursor: cur}
	if env.ns != nsSOAP11 && env.ns != nsSOAP12 {
		return nil, invalid("not a SOAP envelope")
	}
	for _, c := range root.ChildElements() {
		mark := scope.Push(c)
		header, body := isIn(scope, c, env.ns, "Header"), isIn(scope, c, env.ns, "Body")
		scope.Pop(mark)
		switch {
		case header:
			if env.header != nil || env.body != nil {
				return nil, invalid("envelope must have at most one Header before the Body")
			}
			env.header = c
		case body:
			if env.body != nil {
				return nil, invalid("envelope must have exactly one Body")
			}
			env.body = c
		}
	}
	if env.body == nil {
		return nil, invalid("envelope must have exactly one Body")
	}
	return env, nil
}

// forUs reports whether a header block is addressed to the ultimate receiver: no actor (SOAP 1.1) or role
// (SOAP 1.2), or the "next" / "ultimateReceiver" roles.
func (env *envelope) forUs(h *etree.Element) bool {
	scope := xmlparse.ScopeAt(h)
	return forUsIn(scope, h)
}

// forUsIn is forUs for h, whose declarations scope holds.
func forUsIn(scope *xmlparse.Scope, h *etree.Element) bool {
	for i := range h.Attr {
		a := &h.Attr[i]
		if (a.Key != "actor" && a.Key != "role") || a.Space == "" {
			continue
		}
		if ns := scope.Attr(a); ns != nsSOAP11 && ns != nsSOAP12 {
			continue
		}
		switch a.Value {
		case "", actorNext11, roleNext12, roleUltimateReceiver:
		default:
			return false
		}
	}
	return true
}

// selectSecurity finds the single wsse:Security header addressed to us.
func (env *envelope) selectSecurity() error {
	if env.header == nil {
		return invalid("missing wsse:Security header")
	}
	scope := env.cursor.at(env.header)
	for _, t := range env.header.Child {
		h, ok := t.(*etree.Element)
		if !ok || h.Tag != "Security" {
			continue
		}
		mark := scope.Push(h)
		ours := isIn(scope, h, NamespaceWSSE, "Security") && forUsIn(scope, h)
		scope.Pop(mark)
		if !ours {
			continue
		}
		if env.security != nil {
			return invalid("more than one wsse:Security header")
		}
		env.security = h
	}
	if env.security == nil {
		return invalid("missing wsse:Security header")
	}
	return nil
}

// idIndex maps every ID in the document (wsu:Id, unqualified Id, xml:id) to its element.
type idIndex map[string]*etree.Element

// indexIDs walks the whole document; an ID value carried by two elements is refused, wherever they are, so
// that a reference can never be bound to an element other than the one its signer meant.
func indexIDs(root *etree.Element, w *work) (idIndex, error) { return indexIDsIn(nil, root, w) }

// indexIDsIn is indexIDs with the verification's namespace cursor (nil: a scope of its own).
func indexIDsIn(cur *nsCursor, root *etree.Element, w *work) (idIndex, error) {
	ids := idIndex{}
	scope := cur.parentScope(root)
	var walk func(el *etree.Element) error
	walk = func(el *etree.Element) error {
		if err := w.element(len(el.Attr)); err != nil {
			return err
		}
		mark := scope.Push(el)
		defer scope.Pop(mark)
		for _, a := range el.Attr {
			if !isIDAttr(a, scope) {
				continue
			}
			if prev, ok := ids[a.Value]; ok && prev != el {
				return invalid("duplicate id " + quoteID(a.Value))
			}
			ids[a.Value] = el
		}
		for _, c := range el.Child {
			if ce, ok := c.(*etree.Element); ok {
				if err := walk(ce); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	return ids, nil
}

// isIDAttr reports whether a is an ID attribute; a prefixed Id is one in the wsu namespace, resolved with one
// map lookup in scope.
func isIDAttr(a etree.Attr, scope *xmlparse.Scope) bool {
	switch {
	case a.Space == "" && a.Key == "Id":
		return true
	case a.Space == "xml" && a.Key == "id":
		return true
	case a.Space != "" && a.Space != "xmlns" && a.Key == "Id":
		uri, _ := scope.Lookup(a.Space)
		return uri == NamespaceWSU
	}
	return false
}

// wsuID returns el's wsu:Id value, or "".
func wsuID(el *etree.Element) string {
	var scope *xmlparse.Scope
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Key != "Id" || a.Space == "" {
			continue
		}
		if scope == nil {
			scope = xmlparse.ScopeAt(el)
		}
		if scope.Attr(a) == NamespaceWSU {
			return a.Value
		}
	}
	return ""
}

// childElements returns el's element children that are {ns}local. It reads el's ancestors once and each
// child's own declarations, whatever the number of children.
func childElements(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	var scope *xmlparse.Scope
	for _, c := range el.ChildElements() {
		if c.Tag != local {
			continue
		}
		if scope == nil {
			scope = xmlparse.ScopeAt(el)
		}
		mark := scope.Push(c)
		if isIn(scope, c, ns, local) {
			out = append(out, c)
		}
		scope.Pop(mark)
	}
	return out
}
