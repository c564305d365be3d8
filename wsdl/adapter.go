package wsdl

import (
	"context"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/soap"
)

// Adapter is the SOAP facade of the CRM: it implements CrmPortType by turning
// each request's wire types into the service's domain types, calling the
// service, and turning the result back (customers.go), or the error into a
// fault (faults.go).
type Adapter struct {
	svc *service.Service
}

var _ CrmPortType = (*Adapter)(nil)

// NewAdapter returns the CrmPortType that serves svc.
func NewAdapter(svc *service.Service) *Adapter { return &Adapter{svc: svc} }

// withCaller hands the principal the SOAP layer authenticated to the service,
// and the request key of a request with a (trusted) wsa:MessageID.
func withCaller(ctx context.Context) context.Context {
	if p := soap.PrincipalFrom(ctx); p != "" {
		ctx = service.WithCaller(ctx, p)
	}
	if id, op, hash, ok := soap.RequestKeyFrom(ctx); ok {
		ctx = service.WithRequestKey(ctx, service.RequestKey{MessageID: id, Operation: op, Hash: hash})
	}
	return ctx
}
