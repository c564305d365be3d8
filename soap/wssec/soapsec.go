package wssec

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap"
)

// SOAP returns v as the soap.Security hook of a soap.Handler: it understands the wsse:Security header
// (mustUnderstand), verifies every request, puts the authenticated client in the context (soap.WithPrincipal)
// and the signed elements (soap.WithSigned), and hands the dispatcher the operation element of the verified Body. Refusals become *soap.Error with
// Code soap.CodeUnauthorized, the fault Reason as Message and the WS-Security Subcode.
func (v *Verifier) SOAP() soap.Security { return soapSecurity{v} }

type soapSecurity struct{ v *Verifier }

var securityHeader = xml.Name{Space: NamespaceWSSE, Local: "Security"}

func (s soapSecurity) Understands(name xml.Name) bool { return name == securityHeader }

func (s soapSecurity) Check(ctx context.Context, env *soap.Envelope) (context.Context, *etree.Element, error) {
	res, err := s.v.VerifyContext(ctx, env.Doc)
	if err != nil {
		return nil, nil, toSOAPError(err)
	}
	ops := res.Body.ChildElements()
	if len(ops) != 1 {
		return nil, nil, &soap.Error{Code: soap.CodeMalformedRequest, Message: "Body must contain exactly one element"}
	}
	return soap.WithSigned(soap.WithPrincipal(ctx, res.Client), res.Signed), ops[0], nil
}

func toSOAPError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The request ended (its client went away, or its deadline passed) while it was being verified.
		return &soap.Error{Code: soap.CodeUnavailable, Status: http.StatusServiceUnavailable,
			Message: "request ended before it was verified", Err: err}
	}
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	return &soap.Error{Code: soap.CodeUnauthorized, Message: e.Reason, Subcode: e.Subcode, Err: e}
}
