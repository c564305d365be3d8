// Package soap is a generic SOAP 1.1/1.2 server: it turns HTTP requests into
// envelopes, checks them as hostile input (size, DOCTYPE, depth, element count),
// dispatches the body element to a registered Operation, decodes the request
// strictly into the operation's Go type and writes the response or a fault.
//
// It knows SOAP roles (sender or receiver faults), never the application: it must
// not import the wsdl, service or store packages.
package soap

import (
	"encoding/xml"
	"fmt"
)

// Version is the SOAP version of an envelope.
type Version int

// The SOAP versions this package speaks.
const (
	V11 Version = 1
	V12 Version = 2
)

func (v Version) String() string {
	switch v {
	case V11:
		return "1.1"
	case V12:
		return "1.2"
	}
	return "unknown"
}

// The envelope namespaces of SOAP 1.1 and SOAP 1.2.
const (
	NS11 = "http://schemas.xmlsoap.org/soap/envelope/"
	NS12 = "http://www.w3.org/2003/05/soap-envelope"
)

// The codes of the faults raised by this package (the Code of an *Error).
const (
	CodeMalformedRequest = "MALFORMED_REQUEST"
	CodeUnknownOperation = "UNKNOWN_OPERATION"
	CodeValidationFailed = "VALIDATION_FAILED"
	CodeUnauthorized     = "UNAUTHORIZED"
	CodeInternal         = "INTERNAL"
	CodeUnavailable      = "UNAVAILABLE"
)

// Fault is an error that an operation handler returns to be sent as a SOAP fault
// as is: a Sender (Client) fault when ClientFault is true, else a Receiver
// (Server) fault, with FaultString as the fault text and FaultDetail marshalled
// as the direct child of the detail element.
type Fault interface {
	error
	ClientFault() bool
	FaultString() string
	FaultDetail() any
}

// Error is a fault raised by this package itself (or by a Security hook): Code is
// one of the Code constants, Message is safe for the wire, Field names the
// offending element path when there is one. Subcode, when set, is the WS-Security
// fault QName (the faultcode in SOAP 1.1, env:Subcode in SOAP 1.2). Status
// overrides the HTTP status when non-zero. Err is the cause, for logs only.
type Error struct {
	Code    string
	Message string
	Field   string
	Subcode xml.Name
	Status  int
	Err     error
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// clientFault reports whether the sender is to blame for e.
func (e *Error) clientFault() bool {
	return e.Code != CodeInternal && e.Code != CodeUnavailable
}

func errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}
