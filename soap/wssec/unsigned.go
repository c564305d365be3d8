package wssec

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/beevik/etree"

	"github.com/crmsoap/crmsoap/soap"
)

// UnsignedFaultError is what ClientTransport returns, with ServerCert set,
// for a SOAP fault that carries no signature at all: the server answers so
// the requests it refuses before authenticating them (malformed, over a
// limit, a signature it cannot verify, an unknown certificate), so that
// garbage does not cost it a signature. Nothing in it is vouched for by the
// server: anyone on the path could have written it. A signed fault is
// returned as a response like any other, and an unsigned successful response
// is still refused with a signature error.
type UnsignedFaultError struct {
	StatusCode int    // HTTP status
	Code       string // SOAP 1.1 faultcode, or SOAP 1.2 Code/Value with its Subcode: "env:Sender/wsse:FailedAuthentication"
	String     string // faultstring or Reason/Text, at most 512 characters, control characters dropped
	Body       []byte // the response as received, for its detail
}

func (e *UnsignedFaultError) Error() string {
	return "wssec: the server answered with a fault NOT signed by the server certificate (HTTP " +
		strconv.Itoa(e.StatusCode) + ", unauthenticated, as for any request refused before authentication): " +
		e.Code + ": " + strconv.Quote(e.String)
}

// unsignedFault returns the fault in doc when doc is a SOAP fault envelope
// with no ds:Signature anywhere in its Header; nil otherwise.
func unsignedFault(doc *etree.Document, status int, raw []byte) *UnsignedFaultError {
	root := doc.Root()
	if root == nil || root.Tag != "Envelope" {
		return nil
	}
	ns := root.NamespaceURI()
	if ns != soap.NS11 && ns != soap.NS12 {
		return nil
	}
	var body, header *etree.Element
	for _, c := range root.ChildElements() {
		if c.NamespaceURI() != ns {
			continue
		}
		switch c.Tag {
		case "Header":
			header = c
		case "Body":
			body = c
		}
	}
	if body == nil || header != nil && hasSignature(header) {
		return nil
	}
	kids := body.ChildElements()
	if len(kids) != 1 || kids[0].Tag != "Fault" || kids[0].NamespaceURI() != ns {
		return nil
	}
	f := kids[0]
	e := &UnsignedFaultError{StatusCode: status, Body: raw}
	if ns == soap.NS11 {
		e.Code, e.String = childText(f, "", "faultcode"), childText(f, "", "faultstring")
	} else {
		code := child(f, ns, "Code")
		e.Code = childText(code, ns, "Value")
		if sub := childText(child(code, ns, "Subcode"), ns, "Value"); sub != "" {
			e.Code += "/" + sub
		}
		e.String = childText(child(f, ns, "Reason"), ns, "Text")
	}
	e.Code, e.String = printable(e.Code, 128), printable(e.String, 512)
	return e
}

func hasSignature(e *etree.Element) bool {
	for _, c := range e.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == NamespaceDSig || hasSignature(c) {
			return true
		}
	}
	return false
}

// child is e's first child element ns:local; nil when there is none (or e is nil).
func child(e *etree.Element, ns, local string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

func childText(e *etree.Element, ns, local string) string {
	if c := child(e, ns, local); c != nil {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

// printable is s without control characters, cut to max runes: the text
// comes from an unauthenticated peer and ends up in logs and terminals.
func printable(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
