package wsdl

import (
	"errors"
	"testing"

	"github.com/crmsoap/crmsoap/service"
)

func TestFaultOf(t *testing.T) {
	cause := errors.New("disk I/O error at /var/lib/crm.db")
	tests := []struct {
		name       string
		err        error
		wantFault  bool
		wantClient bool
		wantCode   string
	}{
		{"Validation", &service.Error{Code: service.CodeValidationFailed, Message: "customer/name: required", Field: "customer/name"}, true, true, "VALIDATION_FAILED"},
		{"NotFound", &service.Error{Code: service.CodeNotFound, Message: "customer 7 does not exist", Err: cause}, true, true, "NOT_FOUND"},
		{"Conflict", &service.Error{Code: service.CodeConflict, Message: "stale", Field: "expectedVersion"}, true, true, "CONFLICT"},
		{"Unavailable", &service.Error{Code: service.CodeUnavailable, Message: "try again"}, true, false, "UNAVAILABLE"},
		{"Internal", &service.Error{Code: service.CodeInternal, Message: "internal error", Err: cause}, false, false, ""},
		{"NotAServiceError", cause, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := faultOf(tt.err)
			f, ok := got.(*Fault)
			if ok != tt.wantFault {
				t.Fatalf("faultOf(%v) is a Fault: %v, want %v", tt.err, ok, tt.wantFault)
			}
			if !ok {
				if got != tt.err {
					t.Fatalf("faultOf(%v) = %v, want the error unchanged", tt.err, got)
				}
				return
			}
			if f.ClientFault() != tt.wantClient || f.FaultCode() != tt.wantCode {
				t.Fatalf("fault client=%v code=%q, want client=%v code=%q", f.ClientFault(), f.FaultCode(), tt.wantClient, tt.wantCode)
			}
			d := f.FaultDetail().(*CrmFault)
			se := tt.err.(*service.Error)
			if string(*d.Code) != tt.wantCode || d.Message != se.Message || d.Field != se.Field {
				t.Fatalf("detail = {%s %q %q}, want {%s %q %q}", *d.Code, d.Message, d.Field, tt.wantCode, se.Message, se.Field)
			}
			if f.FaultString() != se.Message {
				t.Fatalf("fault string %q, want the safe message %q (never the cause)", f.FaultString(), se.Message)
			}
		})
	}
}
