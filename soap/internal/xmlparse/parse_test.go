package xmlparse

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// referenceParse is the request path this parser replaced, kept as the oracle:
// an encoding/xml token pass that refuses DOCTYPE, processing instructions and
// documents over the limits, then etree's own parse.
func referenceParse(in []byte, maxDepth, maxElements int) (*etree.Document, error) {
	d := xml.NewDecoder(bytes.NewReader(in))
	d.Strict = true
	var open []xml.Name
	depth, elements, roots := 0, 0, 0
	for tokens := 0; ; tokens++ {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			open = append(open, t.Name)
			depth++
			elements++
			if depth == 1 {
				roots++
			}
			if roots > 1 || depth > maxDepth || elements > maxElements {
				return nil, errors.New("limits")
			}
		case xml.EndElement:
			if depth == 0 || open[depth-1] != t.Name {
				return nil, errors.New("unexpected end tag")
			}
			open = open[:depth-1]
			depth--
		case xml.Directive:
			return nil, errors.New("directive")
		case xml.ProcInst:
			if t.Target != "xml" || tokens != 0 {
				return nil, errors.New("processing instruction")
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if roots == 0 || depth != 0 {
		return nil, errors.New("no root or unclosed")
	}
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = maxDepth + 1
	doc.ReadSettings.CharsetReader = func(string, io.Reader) (io.Reader, error) { return nil, errors.New("charset") }
	if err := doc.ReadFromBytes(in); err != nil {
		return nil, err
	}
	return doc, nil
}

// mayRefuseAlone reports whether err is a refusal the reference may not make:
// anything but Malformed (a rule lenient parsers do not check, a construct
// refused on purpose, a limit). A Malformed refusal of a document the
// reference accepts is a bug in one of them.
func mayRefuseAlone(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind != Malformed
}

// checkAgainstReference parses in both ways: whatever we accept, the reference
// accepts and builds the same tree; whatever the reference refuses, we refuse;
// what only we refuse is a refusal of another kind than Malformed.
func checkAgainstReference(tb testing.TB, in []byte, maxDepth, maxElements int) {
	tb.Helper()
	got, err := Parse(in, maxDepth, maxElements)
	want, wantErr := referenceParse(in, maxDepth, maxElements)
	switch {
	case err == nil && wantErr != nil:
		tb.Fatalf("accepted what the reference refuses (%v):\n%q", wantErr, in)
	case err != nil && wantErr == nil && !mayRefuseAlone(err):
		tb.Fatalf("refused what the reference accepts: %v\n%q", err, in)
	case err != nil:
		var se *Error
		if !errors.As(err, &se) || se.Kind < Malformed || se.Kind > LimitExceeded {
			tb.Fatalf("error %v is not an *Error of a known Kind", err)
		}
		return
	}
	compareDocs(tb, got, want)
}

// compareDocs checks two trees serialize alike and agree token by token,
// parents, indexes, namespaces and white-space flags included.
func compareDocs(tb testing.TB, got, want *etree.Document) {
	tb.Helper()
	var gb, wb bytes.Buffer
	if _, err := got.WriteTo(&gb); err != nil {
		tb.Fatal(err)
	}
	if _, err := want.WriteTo(&wb); err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(gb.Bytes(), wb.Bytes()) {
		tb.Fatalf("trees serialize differently:\n got %q\nwant %q", gb.Bytes(), wb.Bytes())
	}
	compareTokens(tb, &got.Element, &want.Element, "/")
}

func compareTokens(tb testing.TB, got, want *etree.Element, path string) {
	tb.Helper()
	if len(got.Child) != len(want.Child) {
		tb.Fatalf("%s: %d children, want %d", path, len(got.Child), len(want.Child))
	}
	for i := range got.Child {
		g, w := got.Child[i], want.Child[i]
		if g.Parent() != got || g.Index() != i {
			tb.Fatalf("%s child %d: parent %p index %d, want %p %d", path, i, g.Parent(), g.Index(), got, i)
		}
		at := fmt.Sprintf("%s[%d]", path, i)
		switch w := w.(type) {
		case *etree.Element:
			g, ok := g.(*etree.Element)
			if !ok {
				tb.Fatalf("%s: %T, want an element", at, got.Child[i])
			}
			compareElements(tb, g, w, at)
		case *etree.CharData:
			g, ok := g.(*etree.CharData)
			if !ok || g.Data != w.Data || g.IsWhitespace() != w.IsWhitespace() || g.IsCData() != w.IsCData() {
				tb.Fatalf("%s: %#v, want %#v", at, got.Child[i], w)
			}
		case *etree.Comment:
			if g, ok := g.(*etree.Comment); !ok || g.Data != w.Data {
				tb.Fatalf("%s: %#v, want %#v", at, got.Child[i], w)
			}
		case *etree.ProcInst:
			if g, ok := g.(*etree.ProcInst); !ok || g.Target != w.Target || g.Inst != w.Inst {
				tb.Fatalf("%s: %#v, want %#v", at, got.Child[i], w)
			}
		default:
			tb.Fatalf("%s: unexpected reference token %T", at, w)
		}
	}
}

func compareElements(tb testing.TB, g, w *etree.Element, at string) {
	tb.Helper()
	if g.Space != w.Space || g.Tag != w.Tag || g.NamespaceURI() != w.NamespaceURI() || len(g.Attr) != len(w.Attr) {
		tb.Fatalf("%s: element %s {%s} with %d attributes, want %s {%s} with %d", at,
			g.FullTag(), g.NamespaceURI(), len(g.Attr), w.FullTag(), w.NamespaceURI(), len(w.Attr))
	}
	for k := range g.Attr {
		ga, wa := &g.Attr[k], &w.Attr[k]
		if ga.Space != wa.Space || ga.Key != wa.Key || ga.Value != wa.Value || ga.Element() != g ||
			ga.NamespaceURI() != wa.NamespaceURI() {
			tb.Fatalf("%s: attribute %d %s=%q {%s} of %p, want %s=%q {%s}", at, k, ga.FullKey(), ga.Value,
				ga.NamespaceURI(), ga.Element(), wa.FullKey(), wa.Value, wa.NamespaceURI())
		}
	}
	compareTokens(tb, g, w, at+"/"+w.FullTag())
}

// corpus is every XML file under testdata, plus hand-written documents that
// both parsers accept and that exercise each construct.
func corpus(tb testing.TB) [][]byte {
	tb.Helper()
	var docs [][]byte
	err := filepath.WalkDir(filepath.Join("..", "..", "..", "testdata"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") && !strings.HasSuffix(path, ".wsdl") {
			return err
		}
		b, err := os.ReadFile(path)
		docs = append(docs, bytes.TrimPrefix(b, []byte("\ufeff")))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(docs) < 50 {
		tb.Fatalf("only %d testdata documents", len(docs))
	}
	for _, s := range handWritten {
		docs = append(docs, []byte(s))
	}
	return docs
}

var handWritten = []string{
	`<a/>`,
	`<a></a>`,
	"<?xml version='1.0'?>\n<a/>\n",
	`<?xml version="1.0" encoding="utf-8" standalone="yes" ?><a/>`,
	"<?xml version = \"1.0\"\tencoding = 'UTF-8'?>\r\n<a/>\r\n",
	`<!-- before --><a/><!-- after -->`,
	`<a>x<!--c-->y<![CDATA[<z>&amp;]]>w<![CDATA[]]></a>`,
	`<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x1F600;&#0065;</a>`,
	`<a b="&lt;&amp;&#10;&#x9;" c='"' d="'" e="]]>" f="a>b"/>`,
	"<a b=\"x\ty\nz\r\nw\rv\">l1\r\nl2\rl3\n\r</a>",
	"<a><![CDATA[x\r\ny\rz]]><!--c\r\nd--></a>",
	`<a xmlns="urn:d" xmlns:p="urn:p"><p:b p:c="1" c="2"><d xmlns="urn:e"><p:e xmlns:p="urn:q"/></d></p:b></a>`,
	`<a xmlns:p="urn:p"><b xmlns=""/><p:c xml:lang="en" xml:space="preserve"/></a>`,
	`<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:id="x"/>`,
	`<a   b = "1"   ></a   >`,
	`<élément attribut="é">ü日本語</élément>`,
	`<日本語 属性="値"/>`,
	`<a.b-c_d e.f="1"/>`,
	`<a>]] ]&gt; ] ]]</a>`,
	`<a>></a>`,
	"<a>\t \n</a>",
	`<a/>   `,
	`<a><b><c><d/></c></b><b/>text<b>more</b></a>`,
	"<a>\u00a0\ufffd\U0010FFFD</a>",
}

func TestParseXML_MatchesEtree(t *testing.T) {
	accepted := 0
	for _, doc := range corpus(t) {
		checkAgainstReference(t, doc, 1000, 1000000)
		if _, err := Parse(doc, 1000, 1000000); err == nil {
			accepted++
		}
	}
	for _, doc := range handWritten {
		if _, err := Parse([]byte(doc), 1000, 1000000); err != nil {
			t.Errorf("refused %q: %v", doc, err)
		}
	}
	if accepted < 60 {
		t.Errorf("only %d documents accepted by both parsers", accepted)
	}
}

func TestParseXML_Refusals(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"Empty", ``, "XML has no root element"},
		{"OnlySpace", " \n", "XML has no root element"},
		{"Doctype", `<!DOCTYPE a><a/>`, "DOCTYPE is not allowed"},
		{"DoctypeUnterminated", `<a><!DOCTYPE`, "DOCTYPE is not allowed"},
		{"DoctypeSpaced", `<! DOCTYPE a>`, "DOCTYPE is not allowed"},
		{"Entity", `<a><!ENTITY x "y"></a>`, "XML directives are not allowed"},
		{"PI", `<a><?php x ?></a>`, "processing instructions are not allowed"},
		{"PIXMLStylesheet", `<?xml-stylesheet href="x"?><a/>`, "processing instructions are not allowed"},
		{"DeclNotFirst", " <?xml version=\"1.0\"?><a/>", "the XML declaration must come first"},
		{"DeclTwice", `<?xml version="1.0"?><?xml version="1.0"?><a/>`, "the XML declaration must come first"},
		{"DeclNoVersion", `<?xml encoding="UTF-8"?><a/>`, "the XML declaration needs a version: <?xml version=\"1.0\" encoding=\"UTF-8\"?> (line 1, column 7)"},
		{"DeclEmpty", `<?xml?><a/>`, "needs a version"},
		{"DeclVersion11", `<?xml version="1.1"?><a/>`, `XML version "1.1" is not supported`},
		{"DeclLatin1", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, `encoding "ISO-8859-1": send UTF-8`},
		{"DeclUTF16", `<?xml version="1.0" encoding="UTF-16"?><a/>`, `encoding "UTF-16": send UTF-8`},
		{"DeclStandalone", `<?xml version="1.0" standalone="maybe"?><a/>`, "standalone must be"},
		{"DeclOrder", `<?xml encoding="UTF-8" version="1.0"?><a/>`, "needs a version"},
		{"DeclJunk", `<?xml!?><a/>`, "malformed XML declaration (line 1, column 6)"},
		{"DeclNoSpace", `<?xml version="1.0"encoding="UTF-8"?><a/>`, "malformed XML declaration"},
		{"DeclUnterminated", `<?xml version="1.0"`, "unexpected end of input"},
		{"TwoRoots", `<a/><b/>`, "XML has more than one root element"},
		{"TextBefore", `x<a/>`, "text outside the root element"},
		{"TextAfter", `<a/>x`, "text outside the root element"},
		{"ReferenceOutside", `<a/>&#32;`, "text outside the root element"},
		{"NbspOutside", "<a/>\u00a0", "text outside the root element"},
		{"CDATAOutside", `<a/><![CDATA[ ]]>`, "text outside the root element"},
		{"Unclosed", "<a>\n<b>", "unexpected end of input: <b> is not closed (line 2, column 4)"},
		{"Mismatch", `<a><b></a>`, "end tag </a> does not match start tag <b> (line 1, column 7)"},
		{"StrayEnd", `</a>`, "unexpected end tag </a>"},
		{"EndTagJunk", `<a></a x>`, "invalid characters between </a and >"},
		{"NoName", `<>`, "expected element name after <"},
		{"NoEndName", `<a></>`, "expected element name after </"},
		{"NameStartsWithDigit", `<1a/>`, "invalid XML name 1a"},
		{"NameTwoColons", `<a:b:c/>`, "invalid XML name a:b:c"},
		{"NameLeadingColon", `<:a/>`, "invalid XML name :a"},
		{"NameTrailingColon", `<a: />`, "invalid XML name a:"},
		{"NameBadRune", "<a\u00a0b/>", "invalid XML name"},
		{"NameInvalidUTF8", "<a\xffb/>", "invalid XML name"},
		{"AttrNoEquals", `<a b/>`, "attribute name without = in element <a>"},
		{"TooManyAttributes", "<a" + manyAttrs(257) + "/>", "element <a> has more than 256 attributes"},
		{"TooManyNamespaces", `<a` + manyDecls(0, 200) + `><b` + manyDecls(200, 57) + `/></a>`,
			"more than 256 namespace declarations are in scope at element <b>"},
		{"AttrUnquoted", `<a b=c/>`, "unquoted or missing attribute value"},
		{"AttrNoSpace", `<a b="1"c="2"/>`, "expected whitespace, an attribute, /> or > in element <a>"},
		{"AttrLT", `<a b="<"/>`, "unescaped < inside quoted string"},
		{"AttrUnterminated", `<a b="x`, "unexpected end of input"},
		{"AttrDuplicate", `<a b="1" b="2"/>`, "attribute b appears twice in element <a>"},
		{"AttrDuplicateExpanded", `<a xmlns:p="urn:x" xmlns:q="urn:x" p:b="1" q:b="2"/>`, "attribute q:b appears twice"},
		{"AttrDuplicateDecl", `<a xmlns:p="urn:x" xmlns:p="urn:y"/>`, "attribute xmlns:p appears twice"},
		{"AttrDuplicateMany", `<a a1="" a2="" a3="" a4="" a5="" a6="" a7="" a8="" a9="" a5=""/>`, "attribute a5 appears twice"},
		{"SlashNoGT", `<a/ >`, "expected /> in element <a>"},
		{"UndeclaredElementPrefix", `<p:a/>`, "namespace prefix p of element <p:a> is not declared"},
		{"UndeclaredAttrPrefix", `<a p:b="1"/>`, "namespace prefix p of attribute p:b is not declared"},
		{"PrefixOutOfScope", `<a><b xmlns:p="urn:p"/><p:c/></a>`, "namespace prefix p of element <p:c> is not declared"},
		{"EmptyPrefixedNS", `<a xmlns:p=""/>`, "namespace prefix p is declared with an empty URI"},
		{"DeclareXMLNS", `<a xmlns:xmlns="urn:x"/>`, "the xmlns prefix and namespace cannot be declared"},
		{"RebindXML", `<a xmlns:xml="urn:x"/>`, "the xml prefix belongs to"},
		{"BindXMLNamespace", `<a xmlns:x="http://www.w3.org/XML/1998/namespace"/>`, "the xml prefix belongs to"},
		{"DefaultXMLNS", `<a xmlns="http://www.w3.org/2000/xmlns/"/>`, "the default namespace cannot be"},
		{"ElementXMLNSPrefix", `<xmlns:a/>`, "reserved prefix xmlns"},
		{"UnknownEntity", "<a>\n  &nbsp;</a>", "invalid character entity &nbsp; (line 2, column 3)"},
		{"EntityNoSemicolon", `<a>&amp</a>`, "invalid character entity &amp (no semicolon)"},
		{"BareAmpersand", `<a>a & b</a>`, "invalid character entity & (no semicolon)"},
		{"EmptyCharRef", `<a>&#;</a>`, "invalid character entity &#;"},
		{"EmptyHexRef", `<a>&#x;</a>`, "invalid character entity &#x;"},
		{"UpperHexRef", `<a>&#X41;</a>`, "invalid character entity &# (no semicolon)"},
		{"NulRef", `<a>&#0;</a>`, "character reference &#0; is not a legal XML character"},
		{"SurrogateRef", `<a>&#xD800;</a>`, "is not a legal XML character"},
		{"HugeRef", `<a>&#99999999999999999999;</a>`, "is not a legal XML character"},
		{"EntityInAttr", `<a b="&foo;"/>`, "invalid character entity &foo;"},
		{"CDATAEnd", `<a>]]></a>`, "unescaped ]]> not in CDATA section"},
		{"CDATAEndAfterEntity", `<a>&amp;]]></a>`, "unescaped ]]> not in CDATA section"},
		{"CDATAUnterminated", `<a><![CDATA[x</a>`, "unexpected end of input in CDATA section"},
		{"BadCDATA", `<a><![CDAT[x]]></a>`, "invalid <![ sequence"},
		{"BadComment", `<a><!-x--></a>`, "invalid sequence <!- not part of <!--"},
		{"DoubleDashComment", `<a><!-- a -- b --></a>`, `invalid sequence "--" not allowed in comments`},
		{"CommentEndsWithDash", `<a><!-- a ---></a>`, `invalid sequence "--" not allowed in comments`},
		{"CommentUnterminated", `<a><!-- x`, "unexpected end of input"},
		{"ControlChar", "<a>\x01</a>", "illegal character code U+0001"},
		{"ControlCharInAttr", "<a b=\"\x1f\"/>", "illegal character code U+001F"},
		{"NulInText", "<a>x\x00</a>", "illegal character code U+0000"},
		{"NulAfterEntity", "<a>&amp;\x00</a>", "illegal character code U+0000"},
		{"InvalidUTF8", "<a>\xc3\x28</a>", "invalid UTF-8"},
		{"InvalidUTF8InComment", "<a><!-- \xff --></a>", "invalid UTF-8"},
		{"FFFE", "<a>\uFFFE</a>", "illegal character code U+FFFE"},
		{"EncodedSurrogate", "<a>\xed\xa0\x80</a>", "invalid UTF-8"},
		{"TruncatedTag", `<a`, "unexpected end of input"},
		{"TruncatedLT", `<a><`, "unexpected end of input"},
		{"Depth", `<a><b><c/></b></a>`, "XML nesting exceeds 2 levels"},
		{"Elements", `<a><b/><c/><d/></a>`, "XML has more than 3 elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), 2, 3)
			if tt.name != "Depth" && tt.name != "Elements" {
				_, err = Parse([]byte(tt.in), 64, 1000)
			}
			var se *Error
			if !errors.As(err, &se) || se.Kind == 0 || !strings.Contains(se.Error(), tt.want) {
				t.Fatalf("parse %q: %v, want MALFORMED_REQUEST containing %q", tt.in, err, tt.want)
			}
			checkAgainstReference(t, []byte(tt.in), 64, 1000)
		})
	}
}

// TestParseXML_SharedSlices checks that the tree's slab-allocated slices behave
// like separate ones: growing one element's children or attributes leaves its
// neighbours alone.
func TestParseXML_SharedSlices(t *testing.T) {
	doc, err := Parse([]byte(`<r><a x="1" y="2"><b/></a><c z="3"><d/></c></r>`), 64, 1000)
	if err != nil {
		t.Fatal(err)
	}
	a, c := doc.FindElement("/r/a"), doc.FindElement("/r/c")
	a.CreateAttr("w", "4")
	a.CreateElement("e")
	doc.Root().CreateElement("f")
	doc.CreateComment("end")
	got, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	const want = `<r><a x="1" y="2" w="4"><b/><e/></a><c z="3"><d/></c><f/></r><!--end-->`
	if got != want || c.SelectAttrValue("z", "") != "3" || c.SelectElement("d") == nil {
		t.Errorf("after appending:\n got %s\nwant %s", got, want)
	}
}

// TestParseXML_ManyNamespaces crosses into the map-indexed scope: shadowing
// and popping must still resolve each prefix to its innermost declaration.
func TestParseXML_ManyNamespaces(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<r xmlns:p="urn:outer"`)
	for i := range 40 {
		fmt.Fprintf(&b, ` xmlns:n%d="urn:%d"`, i, i)
	}
	b.WriteString(`><a xmlns:p="urn:inner" xmlns:n3="urn:three"><p:x n3:y="1"/></a><p:z n39:y="1"/></r>`)
	doc, err := Parse([]byte(b.String()), 64, 1000)
	if err != nil {
		t.Fatal(err)
	}
	x, z := doc.FindElement("//x"), doc.FindElement("//z")
	if x.NamespaceURI() != "urn:inner" || z.NamespaceURI() != "urn:outer" || x.Attr[0].NamespaceURI() != "urn:three" {
		t.Errorf("namespaces %s %s %s", x.NamespaceURI(), z.NamespaceURI(), x.Attr[0].NamespaceURI())
	}
	for _, bad := range []string{`<q:w/>`, `<w n40:y="1"/>`} {
		in := strings.Replace(b.String(), `<p:z n39:y="1"/>`, bad, 1)
		if _, err := Parse([]byte(in), 64, 1000); err == nil || !strings.Contains(err.Error(), "is not declared") {
			t.Errorf("%s: %v, want an undeclared prefix", bad, err)
		}
	}
	checkAgainstReference(t, []byte(b.String()), 64, 1000)
}

// TestParseXML_Reuse parses documents of different shapes with pooled state
// in between; nothing of one may leak into the next.
func TestParseXML_Reuse(t *testing.T) {
	docs := corpus(t)
	for range 3 {
		for _, in := range docs {
			checkAgainstReference(t, in, 1000, 1000000)
		}
	}
}

func TestParseXML_Allocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector")
	}
	in, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "soap", "echo-11", "request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Parse(in, 64, 1000); err != nil {
			t.Fatal(err)
		}
	})
	// The document, one string, and one slice each of tokens, elements,
	// attributes, text and comments, whatever the size of the document.
	if allocs > 10 {
		t.Errorf("%v allocations per parse, want at most 10", allocs)
	}
}

// FuzzParseXML compares the parser with encoding/xml and etree on arbitrary
// input (see checkAgainstReference), under tight limits too.
func FuzzParseXML(f *testing.F) {
	for _, doc := range corpus(f) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgainstReference(t, in, 64, 100000)
		checkAgainstReference(t, in, 3, 10)
	})
}

// The request limits of package soap's defaults.
const (
	defaultMaxBodyBytes = 4 << 20
	defaultMaxDepth     = 64
)

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d=''", i)
	}
	return b.String()
}

func manyDecls(from, n int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, " xmlns:p%d='urn:%d'", i, i)
	}
	return b.String()
}

// TestParseXML_Limits accepts the most attributes and namespace declarations
// the limits allow, and refuses one more before reading the next attribute.
func TestParseXML_Limits(t *testing.T) {
	ok := []string{"<a" + manyAttrs(256) + "/>", `<a` + manyDecls(0, 200) + `><b` + manyDecls(200, 56) + `/><c` + manyDecls(200, 56) + `/></a>`}
	for _, in := range ok {
		if _, err := Parse([]byte(in), 64, 1000); err != nil {
			t.Errorf("%.40s...: %v", in, err)
		}
	}
}

// TestParseXML_HostileShapes parses documents of the default body limit
// (4 MiB) built to make a careless parser quadratic: one element with 300,000
// attributes (refused at the 257th), the most namespace declarations allowed in
// scope of 200,000 elements that use them, 500,000 comments, a text of 800,000
// references. Linear work takes well under a second each; quadratic work would
// take minutes.
func TestParseXML_HostileShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("large documents")
	}
	scale := 1
	if raceEnabled {
		scale = 10 // the race detector is ten times slower: keep the suite fast
	}
	var attrs, decls, comments, refs strings.Builder
	attrs.WriteString("<a")
	for i := range 300000 / scale {
		fmt.Fprintf(&attrs, " a%d=''", i)
	}
	attrs.WriteString("/>")
	decls.WriteString("<a" + manyDecls(0, maxNamespaces) + ">")
	for i := range 200000 / scale {
		fmt.Fprintf(&decls, "<p%d:b p%d:c=''/>", i%maxNamespaces, (i+1)%maxNamespaces)
	}
	decls.WriteString("</a>")
	comments.WriteString("<a>" + strings.Repeat("<!---->", 500000/scale) + "</a>")
	refs.WriteString("<a>" + strings.Repeat("&amp;", 800000/scale) + "</a>")
	for name, doc := range map[string]string{"Attributes": attrs.String(), "Namespaces": decls.String(),
		"Comments": comments.String(), "References": refs.String()} {
		t.Run(name, func(t *testing.T) {
			if len(doc) > defaultMaxBodyBytes {
				t.Fatalf("%d bytes, more than the body limit", len(doc))
			}
			start := time.Now()
			_, err := Parse([]byte(doc), defaultMaxDepth, 1000000)
			if name == "Attributes" {
				if err == nil || !strings.Contains(err.Error(), "more than 256 attributes") {
					t.Fatalf("%v, want the attribute limit", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%d bytes took %v", len(doc), d)
			}
		})
	}
}
