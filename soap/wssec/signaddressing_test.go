package wssec

import (
	"slices"
	"testing"
)

// TestVerify_ReportsSignedAddressingHeaders checks a Signer with SignAddressing
// covers wsa:MessageID, and the verifier reports exactly what is signed: the
// MessageID only when it is.
func TestVerify_ReportsSignedAddressingHeaders(t *testing.T) {
	const env = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:m="urn:crmsoap:test"><soapenv:Header>` +
		`<wsa:MessageID>urn:uuid:0b7e</wsa:MessageID><wsa:Action>urn:crmsoap:test#Ping</wsa:Action></soapenv:Header>` +
		`<soapenv:Body><m:Ping><m:Text>hello</m:Text></m:Ping></soapenv:Body></soapenv:Envelope>`
	for _, signAddressing := range []bool{false, true} {
		doc := parseDoc(t, env)
		s := testSigner(t, "client-rsa")
		s.SignAddressing = signAddressing
		if err := s.Sign(doc); err != nil {
			t.Fatal(err)
		}
		doc = wire(t, doc)
		res, err := testVerifier(t, nil).Verify(doc)
		if err != nil {
			t.Fatalf("SignAddressing=%v: %v", signAddressing, err)
		}
		mid := find(doc.Root(), "MessageID")
		if got := slices.Contains(res.Signed, mid); got != signAddressing {
			t.Errorf("SignAddressing=%v: MessageID among the signed elements = %v", signAddressing, got)
		}
		if !slices.Contains(res.Signed, res.Body) {
			t.Errorf("SignAddressing=%v: Body not among the signed elements", signAddressing)
		}
	}
}
