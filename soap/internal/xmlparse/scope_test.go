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

// TestScopeMatchesNaive binds, shadows and pops across the size where a Scope
// builds its index, and compares every lookup with a naive stack.
func TestScopeMatchesNaive(t *testing.T) {
	type bind struct{ prefix, uri string }
	var naive []bind
	lookup := func(p string) (string, bool) {
		for k := len(naive) - 1; k >= 0; k-- {
			if naive[k].prefix == p {
				return naive[k].uri, true
			}
		}
		return "", false
	}
	s := NewScope()
	var marks []Mark
	check := func(step int) {
		t.Helper()
		for i := range 12 {
			p := fmt.Sprintf("p%d", i)
			got, gok := s.Lookup(p)
			want, wok := lookup(p)
			if got != want || gok != wok {
				t.Fatalf("step %d: %s = %q %v, want %q %v", step, p, got, gok, want, wok)
			}
		}
	}
	for step := range 400 {
		if step%7 < 4 || len(marks) == 0 { // push an element declaring a few prefixes, some again
			marks = append(marks, s.Mark())
			naive = append(naive, bind{"#mark", ""})
			for j := range step % 5 {
				p, u := fmt.Sprintf("p%d", (step+j)%12), fmt.Sprintf("urn:%d", step)
				s.Bind(p, u)
				naive = append(naive, bind{p, u})
			}
		} else {
			s.Pop(marks[len(marks)-1])
			marks = marks[:len(marks)-1]
			for naive[len(naive)-1].prefix != "#mark" {
				naive = naive[:len(naive)-1]
			}
			naive = naive[:len(naive)-1]
		}
		check(step)
	}
	if s.index == nil {
		t.Error("the scope never grew past its linear size; the test does not cover the index")
	}
}
