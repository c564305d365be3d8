package xmlparse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

func TestScope(t *testing.T) {
	doc, err := Parse([]byte(`<r xmlns="urn:d" xmlns:p="urn:p"><p:a xmlns:p="urn:q" p:x="1" y="2" xml:lang="en">`+
		`<b xmlns=""/></p:a><p:c/></r>`), 64, 100)
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Root()
	a, c := r.SelectElement("a"), r.SelectElement("c")
	b := a.SelectElement("b")
	s := ScopeAt(a)
	if got := s.Elem(a); got != "urn:q" {
		t.Errorf("a in %q", got)
	}
	if x, y, l := s.Attr(&a.Attr[1]), s.Attr(&a.Attr[2]), s.Attr(&a.Attr[3]); x != "urn:q" || y != "" || l != XMLNamespace {
		t.Errorf("attributes in %q %q %q", x, y, l)
	}
	m := s.Push(b)
	if got := s.Elem(b); got != "" {
		t.Errorf("b in %q", got)
	}
	s.Pop(m)
	if got := s.Elem(a); got != "urn:q" {
		t.Errorf("after pop, a in %q", got)
	}
	if got := ScopeAt(c).Elem(c); got != "urn:p" {
		t.Errorf("c in %q", got)
	}
	for _, el := range []*etree.Element{r, a, b, c} {
		if got, want := ElemNS(el), el.NamespaceURI(); got != want {
			t.Errorf("ElemNS(%s) = %q, etree says %q", el.Tag, got, want)
		}
	}
}

// TestScopeLookupCost: one lookup costs one probe however many declarations
// are in scope.
func TestScopeLookupCost(t *testing.T) {
	for _, k := range []int{10, 200} {
		var b strings.Builder
		b.WriteString("<r")
		for i := range k {
			fmt.Fprintf(&b, ` xmlns:p%d="urn:%d"`, i, i)
		}
		b.WriteString("/>")
		doc, err := Parse([]byte(b.String()), 64, 100)
		if err != nil {
			t.Fatal(err)
		}
		s := ScopeAt(doc.Root())
		before := Probes()
		if uri, ok := s.Lookup("p0"); !ok || uri != "urn:0" {
			t.Fatalf("p0 = %q %v", uri, ok)
		}
		if n := Probes() - before; n != 1 {
			t.Errorf("%d declarations: a lookup cost %d probes", k, n)
		}
	}
}
