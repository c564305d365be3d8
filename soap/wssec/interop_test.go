package wssec

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dsig "github.com/russellhaering/goxmldsig"
)

// requireTool returns the path of an external program; without it the test is skipped, except in CI where
// the interop tools are installed and a missing one is a failure.
func requireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is required in CI: %v", name, err)
		}
		tb.Skipf("%s not installed", name)
	}
	return p
}

// xmlsecTemplate describes a WS-Security envelope for xmlsec1 --sign to complete.
type xmlsecTemplate struct {
	soap12       bool
	envNS        string // extra namespace declarations on the Envelope
	key          string
	sigMethod    string
	digest       string
	siPrefixList string // InclusiveNamespaces on SignedInfo's CanonicalizationMethod ("" = none)
	refPrefixes  string // InclusiveNamespaces on each reference's exc-c14n transform
	keyInfo      string // "bst" (STR to a BinarySecurityToken) or "x509data" (filled by xmlsec1)
	body         string // Body content
}

func inclusive(pl string) string {
	if pl == "" {
		return ""
	}
	return `<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="` + pl + `"/>`
}

func (x xmlsecTemplate) render(tb testing.TB) string {
	tb.Helper()
	envNS := nsSOAP11
	if x.soap12 {
		envNS = nsSOAP12
	}
	k := loadKey(tb, x.key)
	ref := func(uri string) string {
		return `<ds:Reference URI="` + uri + `"><ds:Transforms><ds:Transform Algorithm="` + algExcC14N + `">` + inclusive(x.refPrefixes) +
			`</ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="` + x.digest + `"/><ds:DigestValue/></ds:Reference>`
	}
	bst, keyInfo := "", `<ds:X509Data><ds:X509Certificate/></ds:X509Data>`
	if x.keyInfo == "bst" {
		bst = `<wsse:BinarySecurityToken wsu:Id="X509-1" EncodingType="` + EncodingTypeBase64 + `" ValueType="` + ValueTypeX509v3 + `">` +
			base64.StdEncoding.EncodeToString(k.cert.Raw) + `</wsse:BinarySecurityToken>`
		keyInfo = `<wsse:SecurityTokenReference><wsse:Reference URI="#X509-1" ValueType="` + ValueTypeX509v3 + `"/></wsse:SecurityTokenReference>`
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="%s" xmlns:wsu="%s" %s>
  <soapenv:Header>
    <wsse:Security xmlns:wsse="%s" soapenv:mustUnderstand="1">
      <wsu:Timestamp wsu:Id="TS-1"><wsu:Created>2026-03-01T12:00:00Z</wsu:Created><wsu:Expires>2026-03-01T12:05:00Z</wsu:Expires></wsu:Timestamp>
      %s
      <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo>
          <ds:CanonicalizationMethod Algorithm="%s">%s</ds:CanonicalizationMethod>
          <ds:SignatureMethod Algorithm="%s"/>
          %s
          %s
        </ds:SignedInfo>
        <ds:SignatureValue/>
        <ds:KeyInfo>%s</ds:KeyInfo>
      </ds:Signature>
    </wsse:Security>
  </soapenv:Header>
  <soapenv:Body wsu:Id="id-body">%s</soapenv:Body>
</soapenv:Envelope>
`, envNS, NamespaceWSU, x.envNS, NamespaceWSSE, bst, algExcC14N, inclusive(x.siPrefixList), x.sigMethod, ref("#id-body"), ref("#TS-1"), keyInfo, x.body)
}

// xmlsecSign signs template text with xmlsec1 and the named test key.
func xmlsecSign(tb testing.TB, xmlsec, template, key string) string {
	tb.Helper()
	k := loadKey(tb, key)
	dir := tb.TempDir()
	in, out := filepath.Join(dir, "template.xml"), filepath.Join(dir, "signed.xml")
	if err := os.WriteFile(in, []byte(template), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(xmlsec, "--sign", "--id-attr:Id", "Body", "--id-attr:Id", "Timestamp",
		"--privkey-pem", k.keyPath+","+k.certPath, "--output", out, in)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("xmlsec1 --sign: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// xmlsecVerify runs xmlsec1 --verify on text with the certificate's public key.
func xmlsecVerify(tb testing.TB, xmlsec, text, key string) error {
	tb.Helper()
	f := filepath.Join(tb.TempDir(), "message.xml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(xmlsec, "--verify", "--id-attr:Id", "Body", "--id-attr:Id", "Timestamp",
		"--pubkey-cert-pem", loadKey(tb, key).certPath, f)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, b)
	}
	return nil
}

// twoNSBody carries attributes from two namespaces whose canonical order (by namespace URI: urn:a-first
// before urn:z-last) is the opposite of their local-name order (aaa before zzz), which goxmldsig gets wrong.
const twoNSBody = `<m:Ping xmlns:m="urn:crmsoap:test" xmlns:a="urn:z-last" xmlns:b="urn:a-first">` +
	`<m:Item a:aaa="1" b:zzz="2" c="3">x &amp; y</m:Item><Plain xmlns="urn:default" b:zzz="&#9;t&#10;n">cr&#13;lf&#10;</Plain></m:Ping>`

func largeBody(n int) string {
	var b strings.Builder
	b.WriteString(`<m:Ping xmlns:m="urn:crmsoap:test">`)
	for i := range n {
		fmt.Fprintf(&b, `<m:Item n="%d">v%d</m:Item>`, i, i)
	}
	b.WriteString(`</m:Ping>`)
	return b.String()
}

func TestXMLSec1_SignedByXMLSec1(t *testing.T) {
	xmlsec := requireTool(t, "xmlsec1")
	rsa256 := xmlsecTemplate{key: "client-rsa", sigMethod: dsig.RSASHA256SignatureMethod, digest: algSHA256, keyInfo: "bst"}
	tests := []struct {
		name   string
		edit   func(*xmlsecTemplate)
		client string
	}{
		{"PrefixListsOnSignedInfoAndReferences", func(x *xmlsecTemplate) {
			x.envNS, x.siPrefixList, x.refPrefixes, x.body = `xmlns="urn:d" xmlns:u="urn:unused"`, "soapenv u", "wsu u #default", twoNSBody
		}, "acme-rsa"},
		{"TwoNamespaceAttributes", func(x *xmlsecTemplate) { x.body = twoNSBody }, "acme-rsa"},
		{"BodyOf1500Elements", func(x *xmlsecTemplate) {
			x.body, x.sigMethod, x.digest = largeBody(1500), dsig.RSASHA512SignatureMethod, algSHA512
		}, "acme-rsa"},
		{"ECDSA/X509Data", func(x *xmlsecTemplate) {
			x.key, x.sigMethod, x.keyInfo, x.body = "client-ec", dsig.ECDSASHA256SignatureMethod, "x509data", twoNSBody
		}, "acme-ec"},
		{"SOAP12/X509Data", func(x *xmlsecTemplate) {
			x.soap12, x.keyInfo, x.body = true, "x509data", `<Ping xmlns="urn:crmsoap:test"><Text>hello</Text></Ping>`
		}, "acme-rsa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := rsa256
			tt.edit(&x)
			text := xmlsecSign(t, xmlsec, x.render(t), x.key)
			res, err := testVerifier(t, nil).Verify(parseDoc(t, text))
			if err != nil {
				t.Fatalf("Verify of an xmlsec1 signature: %v\n%s", err, text)
			}
			if res.Client != tt.client {
				t.Errorf("client = %q, want %q", res.Client, tt.client)
			}
			// The same message with one attribute value changed must fail: the check above can fail.
			tampered := strings.Replace(text, `a:aaa="1"`, `a:aaa="9"`, 1)
			tampered = strings.Replace(tampered, `>hello<`, `>hellO<`, 1)
			tampered = strings.Replace(tampered, `>v1499<`, `>v1498<`, 1)
			_, err = testVerifier(t, nil).Verify(parseDoc(t, tampered))
			wantFault(t, err, "FailedCheck", "digest mismatch for #id-body")
		})
	}
}

func TestXMLSec1_VerifiesOurSignatures(t *testing.T) {
	xmlsec := requireTool(t, "xmlsec1")
	body := func(b string) string {
		return `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` + b + `</soapenv:Body></soapenv:Envelope>`
	}
	tests := []struct{ name, envelope, key string }{
		{"SOAP11/RSA", soap11Envelope, "client-rsa"},
		{"SOAP12/ECDSA", soap12Envelope, "client-ec"},
		{"TwoNamespaceAttributes", body(twoNSBody), "client-rsa"},
		{"BodyOf1500Elements", body(largeBody(1500)), "client-ec"},
		{"Server", soap12Envelope, "server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := signed(t, tt.envelope, tt.key)
			if err := xmlsecVerify(t, xmlsec, text, tt.key); err != nil {
				t.Fatalf("xmlsec1 refused our signature: %v\n%s", err, text)
			}
			// A tampered copy must be refused by xmlsec1 too, or the check above proves nothing.
			doc := parseDoc(t, text)
			find(doc.Root(), "Body").ChildElements()[0].CreateAttr("tampered", "1")
			if err := xmlsecVerify(t, xmlsec, docString(t, doc), tt.key); err == nil {
				t.Fatal("xmlsec1 accepted a tampered body")
			}
		})
	}
}
