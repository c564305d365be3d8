package wssec

import (
	"fmt"
	"testing"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// TestNSCursor_MatchesScopeAt moves one cursor between the elements of a document that declares, shadows
// and undeclares prefixes at several depths, in an order that goes up, down and across, and compares every
// prefix's binding with a scope built from the root for that element.
func TestNSCursor_MatchesScopeAt(t *testing.T) {
	doc := parseDoc(t, `<r xmlns="urn:d" xmlns:a="urn:a1"><x xmlns:a="urn:a2" xmlns:b="urn:b"><y xmlns=""><z xmlns:b="urn:b2"/></y>`+
		`<w/></x><v xmlns:c="urn:c"><u xmlns:a="urn:a3"/></v></r>`)
	var all []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		all = append(all, e)
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(doc.Root())
	cur := newNSCursor()
	for step := range 3 * len(all) {
		el := all[(step*5)%len(all)]
		got, want := cur.at(el), xmlparse.ScopeAt(el)
		for _, p := range []string{"", "a", "b", "c", "xml", "none"} {
			gu, gok := got.Lookup(p)
			wu, wok := want.Lookup(p)
			if gu != wu || gok != wok {
				t.Errorf("step %d at <%s>: %q = %q %v, want %q %v", step, el.Tag, p, gu, gok, wu, wok)
			}
		}
		m := got.Push(el) // a caller may push and pop on the cursor's scope between moves
		got.Pop(m)
	}
	if s := cur.at(nil); s.Len() != 0 {
		t.Errorf("at(nil) leaves %d bindings", s.Len())
	}
	if got := fmt.Sprint(cur.childElements(doc.Root(), "urn:d", "x")); got != fmt.Sprint([]*etree.Element{all[1]}) {
		t.Errorf("childElements = %v", got)
	}
}
