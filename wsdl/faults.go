package wsdl

import (
	"errors"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/soap"
)

// Fault is a service error the caller is to blame for, as the SOAP layer sends
// it: a Client (SOAP 1.1) or Sender (SOAP 1.2) fault whose detail is the
// CrmFault {code, message, field}.
type Fault struct {
	Err *service.Error
}

var _ soap.Fault = (*Fault)(nil)

// Error is the service error's text, for logs.
func (f *Fault) Error() string { return f.Err.Error() }

// Unwrap returns the service error.
func (f *Fault) Unwrap() error { return f.Err }

// ClientFault reports whether the caller is to blame: a Client/Sender fault
// rather than a Server/Receiver one (UNAVAILABLE).
func (f *Fault) ClientFault() bool { return f.Err.CallerError() }

// FaultString is the service error's message, safe for the wire.
func (f *Fault) FaultString() string { return f.Err.Message }

// FaultDetail is the CrmFault element carried in the fault's detail.
func (f *Fault) FaultDetail() any { return FaultDetail(string(f.Err.Code), f.Err.Message, f.Err.Field) }

// FaultCode is the contract code, for the request log and metrics.
func (f *Fault) FaultCode() string { return string(f.Err.Code) }

// faultOf turns an error of the service into what the SOAP layer sends. Every
// service error with a code the caller may see becomes a Fault. INTERNAL, and an
// error that is not a service.Error, goes back as it is: the SOAP handler logs it
// once, with the request id and its cause, and sends an INTERNAL fault whose
// message and CrmFault say nothing of the cause.
func faultOf(err error) error {
	var e *service.Error
	if errors.As(err, &e) && e.Code != service.CodeInternal {
		return &Fault{Err: e}
	}
	return err
}

// FaultDetail builds the CrmFault detail of a fault: for the service's errors
// (Fault) and for faults raised by the SOAP layer itself (malformed envelopes,
// unknown operations, security failures, internal errors, ...).
func FaultDetail(code, message, field string) any {
	c := FaultCode(code)
	return &CrmFault{Code: &c, Message: message, Field: field}
}
