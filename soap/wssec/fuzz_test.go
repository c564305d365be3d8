package wssec

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

var update = flag.Bool("update", false, "rewrite the signed envelopes in testdata/wssec")

const testdataDir = "../../testdata/wssec"

// TestTestdata writes (with -update) and checks the signed envelopes in testdata/wssec: every one of them
// verifies at testNow with the test registry, so the fuzz corpus starts from messages that reach the
// cryptographic checks rather than stopping at the first structural one.
func TestTestdata(t *testing.T) {
	if *update {
		writeTestdata(t)
	}
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.xml"))
	if err != nil || len(files) < 8 {
		t.Fatalf("want at least 8 signed envelopes in %s (run with -update), found %d: %v", testdataDir, len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := testVerifier(t, nil).Verify(parseDoc(t, string(b)))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if want := strings.SplitN(filepath.Base(f), "-", 3)[1]; !strings.Contains(res.Client, want) {
				t.Errorf("client = %q, want one containing %q", res.Client, want)
			}
		})
	}
}

func writeTestdata(t *testing.T) {
	t.Helper()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(testdataDir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("soap11-rsa-bst.xml", signed(t, soap11Envelope, "client-rsa"))
	write("soap12-ec-bst.xml", signed(t, soap12Envelope, "client-ec"))
	for i, form := range []string{formX509Cert, formSTRX509Cert, formIssuerSerial, formSKI, formThumbprint} {
		doc := parseDoc(t, signed(t, []string{soap11Envelope, soap12Envelope}[i%2], "client-rsa"))
		setKeyForm(t, doc, form, loadKey(t, "client-rsa"))
		write("soap1"+[]string{"1", "2"}[i%2]+"-rsa-"+strings.ToLower(strings.NewReplacer("/", "-").Replace(form))+".xml", docString(t, doc))
	}
	xmlsec := requireTool(t, "xmlsec1")
	x := xmlsecTemplate{key: "client-rsa", sigMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", digest: algSHA256,
		keyInfo: "bst", envNS: `xmlns="urn:d" xmlns:u="urn:unused"`, siPrefixList: "soapenv u", refPrefixes: "wsu u #default", body: twoNSBody}
	write("xmlsec1-rsa-prefixlists.xml", xmlsecSign(t, xmlsec, x.render(t), "client-rsa"))
}

// FuzzVerify feeds arbitrary documents to Verify: it must not panic, must return either a Result with the
// envelope's Body or an *Error, and must leave the document unchanged.
func FuzzVerify(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*.xml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	reg := testRegistry(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
			return
		}
		before, _ := doc.WriteToString()
		v := testVerifier(t, func(c *Config) { c.Trust = reg })
		res, err := v.Verify(doc)
		switch {
		case err == nil && (res == nil || res.Body == nil || res.Body.Parent() != doc.Root() || res.Client == ""):
			t.Fatalf("nil error with result %+v", res)
		case err != nil && res != nil:
			t.Fatalf("error %v with a result", err)
		case err != nil:
			var e *Error
			if !errors.As(err, &e) || e.Subcode.Local == "" || e.Reason == "" {
				t.Fatalf("error %v (%T) is not a fault", err, err)
			}
		}
		if after, _ := doc.WriteToString(); after != before {
			t.Fatal("Verify changed the document")
		}
	})
}
