package wssec

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// c14nCases are canonicalization inputs: the apex is the first element named "apex" (any prefix).
var c14nCases = []struct {
	name, xml string
	prefixes  []string
}{
	{"AncestorNamespaces", `<r xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused"><a:apex><child/><a:x/></a:apex></r>`, nil},
	{"AttributesInTwoNamespaces", `<r xmlns:a="urn:z-last" xmlns:b="urn:a-first"><apex a:aaa="1" b:zzz="2" c="3" b:aaa="4"/></r>`, nil},
	{"DefaultUndeclared", `<r xmlns="urn:d"><apex><x xmlns=""><y/></x></apex></r>`, nil},
	{"DefaultUndeclaredUnderPrefixed", `<p:r xmlns:p="urn:p" xmlns="urn:d"><p:apex><x xmlns=""><p:y><z/></p:y></x></p:apex></p:r>`, nil},
	{"PrefixRedeclared", `<r xmlns:a="urn:a"><apex xmlns:a="urn:a"><a:x xmlns:a="urn:other"><a:y/></a:x></apex></r>`, nil},
	{"RedundantDeclarations", `<a:r xmlns:a="urn:a"><a:apex xmlns:a="urn:a"><a:x xmlns:a="urn:a" xmlns:b="urn:b"/></a:apex></a:r>`, nil},
	{"XMLAttributesNotInherited", `<r xml:lang="en" xml:space="preserve"><apex xml:id="i1"><x xml:lang="de"/></apex></r>`, nil},
	{"Escaping", "<r><apex a=\"&quot;&amp;&lt;&gt;&#9;&#10;&#13;'\">&amp;&lt;&gt;&#13;\"'\n\t</apex></r>", nil},
	{"CDATA", `<r><apex><![CDATA[<not markup> & ]]></apex></r>`, nil},
	{"Unicode", `<r><apex ü="ä">日本語 ☃</apex></r>`, nil},
	{"EmptyElements", `<r><apex><e/><f></f><g a="1"/></apex></r>`, nil},
	{"Whitespace", "<r>\n  <apex>\n    <x>  t  </x>\n  </apex>\n</r>", nil},
	{"PrefixList", `<r xmlns:u="urn:u" xmlns:v="urn:v" xmlns:w="urn:w"><apex><x/></apex></r>`, []string{"u", "v", "missing"}},
	{"PrefixListUtilizedBelow", `<r xmlns:u="urn:u"><apex><u:x><u:y/></u:x></apex></r>`, []string{"u"}},
	{"PrefixListRedeclaredBelow", `<r xmlns:u="urn:u"><apex><x xmlns:u="urn:u2"/></apex></r>`, []string{"u"}},
	{"SOAPBody", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsu="urn:wsu" xmlns:m="urn:m">` +
		`<soapenv:Body wsu:Id="b"><apex xmlns="urn:op"><m:x m:y="1">t</m:x></apex></soapenv:Body></soapenv:Envelope>`, nil},
	{"ProcessingInstructions", `<r><apex><?pi  data ?><?empty?><x/></apex></r>`, nil},
	{"CommentsDropped", `<r><apex>a<!-- c -->b<x><!--d--></x></apex><!-- outside --></r>`, nil},
}

func apexOf(tb testing.TB, doc *etree.Document) *etree.Element {
	tb.Helper()
	apex := find(doc.Root(), "apex")
	if apex == nil {
		tb.Fatal("no apex element")
	}
	return apex
}

// lxmlScript canonicalizes each case with libxml2 (through lxml) exclusive c14n 1.0 without comments.
const lxmlScript = `
import json, sys
from lxml import etree
out = []
for c in json.load(sys.stdin):
    root = etree.fromstring(c["xml"].encode())
    apex = root.xpath("//*[local-name()='apex']")[0]
    out.append(etree.tostring(apex, method="c14n", exclusive=True, with_comments=False,
                              inclusive_ns_prefixes=c["prefixes"] or None).decode())
json.dump(out, sys.stdout)
`

// TestCanonicalize_MatchesLibxml2 compares this package's exclusive c14n with libxml2's on tricky inputs.
func TestCanonicalize_MatchesLibxml2(t *testing.T) {
	python := "/usr/bin/python3"
	if _, err := exec.LookPath(python); err != nil {
		requireTool(t, "python3-lxml")
	}
	type in struct {
		XML      string   `json:"xml"`
		Prefixes []string `json:"prefixes"`
	}
	var ins []in
	for _, c := range c14nCases {
		ins = append(ins, in{c.xml, c.prefixes})
	}
	payload, _ := json.Marshal(ins)
	cmd := exec.Command(python, "-c", lxmlScript)
	cmd.Stdin = strings.NewReader(string(payload))
	b, err := cmd.Output()
	if err != nil {
		requireTool(t, "lxml for /usr/bin/python3 ("+err.Error()+")")
	}
	var want []string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for i, c := range c14nCases {
		t.Run(c.name, func(t *testing.T) {
			doc := parseDoc(t, c.xml)
			got, err := canonicalBytes(apexOf(t, doc), c14nOptions{inclusive: c.prefixes})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want[i] {
				t.Errorf("c14n\n got %s\nwant %s", got, want[i])
			}
		})
	}
}

func TestCanonicalize_DefaultInPrefixList(t *testing.T) {
	// "#default" includes the default namespace in scope on the apex though the apex does not use it
	// (xmlsec1 agrees: see TestXMLSec1_SignedByXMLSec1/PrefixListsOnSignedInfoAndReferences).
	doc := parseDoc(t, `<r xmlns="urn:d" xmlns:p="urn:p"><p:apex><p:x/></p:apex></r>`)
	for _, tt := range []struct {
		prefixes []string
		want     string
	}{
		{nil, `<p:apex xmlns:p="urn:p"><p:x></p:x></p:apex>`},
		{[]string{"#default"}, `<p:apex xmlns="urn:d" xmlns:p="urn:p"><p:x></p:x></p:apex>`},
	} {
		got, err := canonicalBytes(apexOf(t, doc), c14nOptions{inclusive: tt.prefixes})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("PrefixList %v:\n got %s\nwant %s", tt.prefixes, got, tt.want)
		}
	}
}

func TestCanonicalize_Strict(t *testing.T) {
	for _, tt := range []struct{ name, xml, reason string }{
		{"Comment", `<r><apex>a<!-- c -->b</apex></r>`, "comments are not allowed in signed content"},
		{"NestedComment", `<r><apex><x><!--c--></x></apex></r>`, "comments are not allowed in signed content"},
		{"ProcessingInstruction", `<r><apex><?pi data?></apex></r>`, "processing instructions are not allowed in signed content"},
		{"UndeclaredPrefix", `<r><apex><u:x/></apex></r>`, "undeclared namespace prefix in signed content"},
		{"UndeclaredAttributePrefix", `<r><apex u:a="1"/></r>`, "undeclared namespace prefix in signed content"},
		{"DuplicateAttribute", `<r xmlns:a="urn:a" xmlns:b="urn:a"><apex a:x="1" b:x="2"/></r>`, "duplicate attribute in signed content"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := canonicalBytes(apexOf(t, parseDoc(t, tt.xml)), c14nOptions{strict: true})
			wantFault(t, err, "InvalidSecurity", tt.reason)
		})
	}
}

// The goxmldsig traps: its exclusive canonicalizer orders attributes of different namespaces by local name,
// mutates the element it is given, and its detaching of an element (needed to give it its ancestors'
// namespaces) stops at 1,000 children. Ours must do none of that; goxmldsig's own output is logged.
func TestCanonicalize_GoxmldsigTraps(t *testing.T) {
	goxmldsig := func(apex *etree.Element) (string, error) {
		ctx, err := etreeutils.NSBuildParentContext(apex)
		if err != nil {
			return "", err
		}
		detached, err := etreeutils.NSDetatch(ctx, apex)
		if err != nil {
			return "", err
		}
		b, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(detached)
		return string(b), err
	}
	t.Run("AttributeOrder", func(t *testing.T) {
		const want = `<apex xmlns:a="urn:z-last" xmlns:b="urn:a-first" b:zzz="2" a:aaa="1"></apex>`
		doc := parseDoc(t, `<r xmlns:a="urn:z-last" xmlns:b="urn:a-first"><apex a:aaa="1" b:zzz="2"/></r>`)
		got, err := canonicalBytes(apexOf(t, doc), c14nOptions{})
		if err != nil || string(got) != want {
			t.Fatalf("ours = %s, %v; want %s", got, err, want)
		}
		theirs, err := goxmldsig(apexOf(t, doc))
		t.Logf("goxmldsig: %s %v", theirs, err)
	})
	t.Run("NoMutation", func(t *testing.T) {
		text := `<r xmlns:a="urn:a" xmlns:u="urn:u"><apex xmlns:v="urn:v" a:x="1"><!--c--><a:y/></apex></r>`
		doc := parseDoc(t, text)
		if _, err := canonicalBytes(apexOf(t, doc), c14nOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := docString(t, doc); got != text {
			t.Errorf("document changed:\n got %s\nwant %s", got, text)
		}
		theirs := parseDoc(t, text)
		dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(apexOf(t, theirs))
		t.Logf("goxmldsig leaves: %s", docString(t, theirs))
	})
	t.Run("ManyChildren", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`<r xmlns:m="urn:m"><apex>`)
		for range 3000 {
			b.WriteString(`<m:i>x</m:i>`)
		}
		b.WriteString(`</apex></r>`)
		doc := parseDoc(t, b.String())
		got, err := canonicalBytes(apexOf(t, doc), c14nOptions{})
		if err != nil {
			t.Fatalf("3,000 children: %v", err)
		}
		if n := strings.Count(string(got), `<m:i xmlns:m="urn:m">x</m:i>`); n != 3000 {
			t.Errorf("rendered %d children, want 3000", n)
		}
		_, err = goxmldsig(apexOf(t, doc))
		t.Logf("goxmldsig with 3,000 children: %v", err)
	})
}
