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

// withCaller hands the principal the SOAP layer authenticated to the service.
func withCaller(ctx context.Context) context.Context {
	if p := soap.PrincipalFrom(ctx); p != "" {
		return service.WithCaller(ctx, p)
	}
	return ctx
}
