package soap

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// prefixed marshals an element with a prefix it never declares: etree's parser
// accepts that, the request parser does not.
type prefixed struct{}

func (prefixed) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	p := xml.StartElement{Name: xml.Name{Local: "p:odd"}}
	return e.EncodeElement("x", p)
}

type prefixedResponse struct {
	XMLName xml.Name `xml:"urn:example:toy PrefixedResponse"`
	Odd     prefixed `xml:"odd"`
}

type prefixedRequest struct {
	XMLName xml.Name `xml:"urn:example:toy Prefixed"`
}

// TestHandler_SignResponseParsesOwnOutput checks the response to sign is read
// back as a tree by the request parser, and by etree's when an application's
// MarshalXML wrote what the request parser refuses.
func TestHandler_SignResponseParsesOwnOutput(t *testing.T) {
	var signed []string
	mark := func(doc *etree.Document) error {
		signed = append(signed, doc.Root().FullTag())
		doc.Root().InsertChildAt(0, etree.NewElement("Signed"))
		return nil
	}
	h := newToyHandler(t, func(c *Config) {
		c.SignResponse = mark
		c.Operations = append(c.Operations, Op(xml.Name{Space: toyNS, Local: "Prefixed"}, "",
			func(context.Context, *prefixedRequest) (*prefixedResponse, error) { return &prefixedResponse{}, nil }))
	})
	rec := serve(t, h, ct11, "", echoEnvelope11)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<soap:Envelope xmlns:soap=\""+NS11+"\"><Signed/>") {
		t.Fatalf("echo response (status %d) not signed:\n%s", rec.Code, rec.Body)
	}
	rec = serve(t, h, ct11, "", `<soap:Envelope xmlns:soap="`+NS11+`"><soap:Body><Prefixed xmlns="urn:example:toy"/></soap:Body></soap:Envelope>`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<Signed/>") || !strings.Contains(rec.Body.String(), "<p:odd>x</p:odd>") {
		t.Fatalf("response with an undeclared prefix (status %d) not signed:\n%s", rec.Code, rec.Body)
	}
	if len(signed) != 2 || signed[0] != "soap:Envelope" || signed[1] != "soap:Envelope" {
		t.Errorf("signed %v, want two soap:Envelope documents", signed)
	}
}
