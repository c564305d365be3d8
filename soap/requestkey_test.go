package soap

import (
	"context"
	"testing"

	"github.com/beevik/etree"
)

func parseBodyChild(tb testing.TB, s string) *etree.Element {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(s); err != nil {
		tb.Fatal(err)
	}
	return d.Root()
}

func TestCanonicalHash_SameDocumentDifferentSpelling(t *testing.T) {
	base := CanonicalHash(parseBodyChild(t, `<c:Op xmlns:c="urn:x" a="1" b="2"><c:name>Ann</c:name><c:n>1</c:n></c:Op>`))
	for _, same := range []string{
		`<Op xmlns="urn:x" b="2" a="1"><name>Ann</name><n>1</n></Op>`,
		"<x:Op xmlns:x=\"urn:x\" xmlns:unused=\"urn:u\" a=\"1\" b=\"2\">\n  <x:name> Ann </x:name>\n  <x:n>1</x:n>\n</x:Op>",
	} {
		if got := CanonicalHash(parseBodyChild(t, same)); got != base {
			t.Errorf("hash of %s differs from the same document spelled otherwise", same)
		}
	}
	for _, other := range []string{
		`<c:Op xmlns:c="urn:x" a="1" b="2"><c:name>Anna</c:name><c:n>1</c:n></c:Op>`,
		`<c:Op xmlns:c="urn:y" a="1" b="2"><c:name>Ann</c:name><c:n>1</c:n></c:Op>`,
		`<c:Op xmlns:c="urn:x" a="1" b="3"><c:name>Ann</c:name><c:n>1</c:n></c:Op>`,
		`<c:Op xmlns:c="urn:x" a="1" b="2"><c:n>1</c:n><c:name>Ann</c:name></c:Op>`,
		`<c:Op xmlns:c="urn:x" a="1" b="2"><c:name>Ann</c:name><c:n>1</c:n><c:n>1</c:n></c:Op>`,
		`<c:Op xmlns:c="urn:x" a="1" b="2"><c:name>An</c:name><c:n>n1</c:n></c:Op>`,
	} {
		if got := CanonicalHash(parseBodyChild(t, other)); got == base {
			t.Errorf("hash of %s equals the hash of a different document", other)
		}
	}
}

func TestTrustedMessageID(t *testing.T) {
	doc := parseBodyChild(t, `<E xmlns:wsa="`+wsaNS+`"><H><wsa:MessageID>urn:uuid:1</wsa:MessageID></H><B/></E>`)
	header, body := doc.ChildElements()[0], doc.ChildElements()[1]
	var a addressing
	if err := readAddressing(header, &a); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got := trustedMessageID(ctx, false, &a); got != "urn:uuid:1" {
		t.Errorf("without security: %q, want the MessageID", got)
	}
	if got := trustedMessageID(ctx, true, &a); got != "" {
		t.Errorf("secured, nothing signed: %q, want none", got)
	}
	if got := trustedMessageID(WithSigned(ctx, []*etree.Element{body}), true, &a); got != "" {
		t.Errorf("secured, only the body signed: %q, want none", got)
	}
	if got := trustedMessageID(WithSigned(ctx, []*etree.Element{body, a.messageIDElement}), true, &a); got != "urn:uuid:1" {
		t.Errorf("secured, MessageID signed: %q, want it", got)
	}
	if got := trustedMessageID(WithSigned(ctx, []*etree.Element{header}), true, &a); got != "urn:uuid:1" {
		t.Errorf("secured, the whole Header signed: %q, want it", got)
	}
}

func TestCanonicalHash_ScopesAndAncestors(t *testing.T) {
	h := func(s string) [32]byte { return CanonicalHash(parseBodyChild(t, s)) }
	if h(`<a:Op xmlns:a="urn:x"><a:n xmlns:a="urn:y">1</a:n><a:m>2</a:m></a:Op>`) !=
		h(`<Op xmlns="urn:x"><n xmlns="urn:y">1</n><m>2</m></Op>`) {
		t.Error("a prefix redeclared on a child: hash differs from the same names spelled with default namespaces")
	}
	if h(`<a:Op xmlns:a="urn:x"><a:n xmlns:a="urn:y">1</a:n><a:m>2</a:m></a:Op>`) ==
		h(`<Op xmlns="urn:x"><n>1</n><m>2</m></Op>`) {
		t.Error("a child in another namespace hashes like one in the parent's")
	}
	if h(`<Op xmlns="urn:x" xmlns:p="urn:p" p:a="1" a="2"/>`) == h(`<Op xmlns="urn:x" xmlns:p="urn:p" a="1" p:a="2"/>`) {
		t.Error("a namespaced attribute hashes like an unqualified one")
	}
	// The body child of an envelope inherits the envelope's declarations.
	env := parseBodyChild(t, `<e:Envelope xmlns:e="urn:env" xmlns:c="urn:x"><e:Body><c:Op><c:n>1</c:n></c:Op></e:Body></e:Envelope>`)
	op := env.ChildElements()[0].ChildElements()[0]
	if CanonicalHash(op) != h(`<c:Op xmlns:c="urn:x"><c:n>1</c:n></c:Op>`) {
		t.Error("the body child's hash ignores the envelope's declarations")
	}
}
