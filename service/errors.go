package service

import (
	"errors"
	"fmt"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl"
)

// Code is a CRM fault code, as declared by the contract's FaultCode type.
type Code = wsdl.FaultCode

// The fault codes the service returns.
const (
	CodeValidationFailed = wsdl.FaultCodeVALIDATION_FAILED
	CodeNotFound         = wsdl.FaultCodeNOT_FOUND
	CodeConflict         = wsdl.FaultCodeCONFLICT
	CodeDuplicate        = wsdl.FaultCodeDUPLICATE
	CodeInternal         = wsdl.FaultCodeINTERNAL
)

// Error is the one error type of the service: a contract fault code, a message that
// is safe to send to the caller, the offending field (a path such as
// "customer/email") when there is one, and the underlying cause for logs only.
type Error struct {
	Code    Code
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ClientFault reports whether the caller is to blame (SOAP Client/Sender fault).
func (e *Error) ClientFault() bool { return e.Code != CodeInternal }

// FaultString is the fault's human-readable text on the wire.
func (e *Error) FaultString() string { return e.Message }

// FaultDetail is the CrmFault element carried in the fault's detail.
func (e *Error) FaultDetail() any {
	code := e.Code
	return &wsdl.CrmFault{Code: &code, Message: e.Message, Field: e.Field}
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeValidationFailed, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// fromStore translates a store error into the service's Error. what names the
// entity and key for the message, e.g. "customer 42".
func fromStore(err error, what string) error {
	var dup *store.DuplicateError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: CodeNotFound, Message: what + " does not exist", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Code: CodeConflict, Message: what + " was changed by someone else: expectedVersion is stale", Field: "expectedVersion", Err: err}
	case errors.As(err, &dup):
		field, ok := duplicateFields[dup.Column]
		if !ok {
			field = dup.Column
		}
		return &Error{Code: CodeDuplicate, Message: "another customer already has this " + field, Field: "customer/" + field, Err: err}
	default:
		return &Error{Code: CodeInternal, Message: "internal error", Err: fmt.Errorf("%s: %w", what, err)}
	}
}

// duplicateFields maps store columns to contract field names.
var duplicateFields = map[string]string{"external_id": "externalId"}

// FaultCode is the contract code, for logs and metrics.
func (e *Error) FaultCode() string { return string(e.Code) }
