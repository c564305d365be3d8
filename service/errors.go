package service

import (
	"errors"
	"fmt"
	"strings"

	"github.com/crmsoap/crmsoap/store"
)

// Code is a CRM error code. Its values are the contract's fault codes: a
// transport sends them as they are.
type Code string

// The CRM error codes.
const (
	// CodeValidationFailed: the request breaks a field rule; Field names the field.
	CodeValidationFailed Code = "VALIDATION_FAILED"
	// CodeNotFound: the addressed record does not exist.
	CodeNotFound Code = "NOT_FOUND"
	// CodeConflict: expectedVersion is stale.
	CodeConflict Code = "CONFLICT"
	// CodeDuplicate: a unique field (externalId) is taken by another record.
	CodeDuplicate Code = "DUPLICATE"
	// CodeUnauthorized: the caller may not do this.
	CodeUnauthorized Code = "UNAUTHORIZED"
	// CodeInternal: an unexpected failure; Err holds the cause, Message says nothing of it.
	CodeInternal Code = "INTERNAL"
	// CodeUnavailable: the service cannot take the request now; a retry may succeed.
	CodeUnavailable Code = "UNAVAILABLE"
	// CodeRolledBack: an item of an allOrNone bulk call that was not written because another failed.
	CodeRolledBack Code = "ROLLED_BACK"
	// CodeCursorExpired: a change feed cursor older than the oldest kept deletion; restart without one.
	CodeCursorExpired Code = "CURSOR_EXPIRED"
	// CodeIdempotencyMismatch: a wsa:MessageID seen before came with another operation or body.
	CodeIdempotencyMismatch Code = "IDEMPOTENCY_MISMATCH"
	// CodeInsufficientStock: a stock change would leave a product below zero; nothing was changed.
	CodeInsufficientStock Code = "INSUFFICIENT_STOCK"
)

// Error is the one error type of the service: a CRM error code, a message that
// is safe to send to the caller, the offending field (a path such as
// "customer/email") when there is one, and the underlying cause for logs only.
type Error struct {
	Code    Code
	Message string
	Field   string
	Err     error
}

// Error is the code, message, field and cause, for logs.
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

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// CallerError reports whether the caller is to blame: every code but INTERNAL and UNAVAILABLE.
func (e *Error) CallerError() bool { return e.Code != CodeInternal && e.Code != CodeUnavailable }

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeValidationFailed, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// fromStore translates a store error into the service's Error. what names the
// entity and key for the message, e.g. "customer 42".
func fromStore(err error, what string) error {
	var dup *store.DuplicateError
	if e, ok := insufficientStock(err); ok {
		return e
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: CodeNotFound, Message: what + " does not exist", Err: err}
	case errors.Is(err, errors.ErrUnsupported):
		return &Error{Code: CodeUnavailable, Message: what + ": products, orders and reviews are not available on this database backend yet (SQLite holds them)", Err: err}
	case errors.Is(err, store.ErrReferenced):
		msg := what + " appears on orders, which are financial records: it cannot be deleted"
		if strings.HasPrefix(what, "product") {
			msg += "; set active=false to take it out of the catalogue"
		}
		return &Error{Code: CodeConflict, Message: msg, Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Code: CodeConflict, Message: what + " was changed by someone else: expectedVersion is stale", Field: "expectedVersion", Err: err}
	case errors.As(err, &dup):
		field, ok := duplicateFields[dup.Field]
		if !ok {
			field = dup.Field
		}
		entity := dup.Entity
		if entity == "" {
			entity = store.EntityCustomer
		}
		return &Error{Code: CodeDuplicate, Message: "another " + entity + " already has this " + field, Field: entity + "/" + field, Err: err}
	default:
		return &Error{Code: CodeInternal, Message: "internal error", Err: fmt.Errorf("%s: %w", what, err)}
	}
}

// duplicateFields maps store columns to contract field names.
var duplicateFields = map[string]string{"external_id": "externalId"}
