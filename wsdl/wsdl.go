// Package wsdl is the SOAP facade of the CRM: the WSDL 1.1 contract
// (crmsoap.wsdl), the Go types, client and CrmPortType interface generated from
// it by gowsdl (crmsoap.gen.go: never edit it; regenerate with `make generate`),
// the table that binds each operation to its port-type method (this file), and
// the Adapter that implements CrmPortType by calling package service: one file
// per entity converting wire <-> domain, one for faults. It may import soap,
// service and the gowsdl runtime; never store.
package wsdl

import (
	_ "embed"
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/soap"
	xsd "github.com/hooklift/gowsdl/soap"
)

//go:generate go tool gowsdl -p wsdl -o crmsoap.gen.go -d .. crmsoap.wsdl

// Namespace is the target namespace of the contract and of every element in it.
const Namespace = "urn:crmsoap:v1"

// Document is the WSDL contract as shipped; the soap handler serves it with the
// addresses rewritten.
//
//go:embed crmsoap.wsdl
var Document []byte

// ActionPrefix starts every operation's SOAPAction: the action of X is ActionPrefix + X.
const ActionPrefix = Namespace + "#"

// Operations binds each operation of the contract (body element and SOAPAction)
// to its CrmPortType method, with its WS-Addressing actions.
func Operations(p CrmPortType) []soap.Operation {
	return []soap.Operation{
		addressing(soap.Op(name("AddCustomer"), ActionPrefix+"AddCustomer", p.AddCustomerContext)),
		addressing(soap.Op(name("GetCustomer"), ActionPrefix+"GetCustomer", p.GetCustomerContext)),
		addressing(soap.Op(name("UpdateCustomer"), ActionPrefix+"UpdateCustomer", p.UpdateCustomerContext)),
		addressing(soap.Op(name("DeleteCustomer"), ActionPrefix+"DeleteCustomer", p.DeleteCustomerContext)),
		addressing(soap.Op(name("UpsertCustomer"), ActionPrefix+"UpsertCustomer", p.UpsertCustomerContext)),
		addressing(soap.Op(name("AddCustomers"), ActionPrefix+"AddCustomers", p.AddCustomersContext)),
		addressing(soap.Op(name("UpsertCustomers"), ActionPrefix+"UpsertCustomers", p.UpsertCustomersContext)),
		addressing(soap.Op(name("UpdateCustomers"), ActionPrefix+"UpdateCustomers", p.UpdateCustomersContext)),
		addressing(soap.Op(name("DeleteCustomers"), ActionPrefix+"DeleteCustomers", p.DeleteCustomersContext)),
		addressing(soap.Op(name("SearchCustomers"), ActionPrefix+"SearchCustomers", p.SearchCustomersContext)),
		addressing(soap.Op(name("GetChanges"), ActionPrefix+"GetChanges", p.GetChangesContext)),
		addressing(soap.Op(name("AddProduct"), ActionPrefix+"AddProduct", p.AddProductContext)),
		addressing(soap.Op(name("GetProduct"), ActionPrefix+"GetProduct", p.GetProductContext)),
		addressing(soap.Op(name("UpdateProduct"), ActionPrefix+"UpdateProduct", p.UpdateProductContext)),
		addressing(soap.Op(name("DeleteProduct"), ActionPrefix+"DeleteProduct", p.DeleteProductContext)),
		addressing(soap.Op(name("UpsertProduct"), ActionPrefix+"UpsertProduct", p.UpsertProductContext)),
		addressing(soap.Op(name("UpsertProducts"), ActionPrefix+"UpsertProducts", p.UpsertProductsContext)),
		addressing(soap.Op(name("SearchProducts"), ActionPrefix+"SearchProducts", p.SearchProductsContext)),
		addressing(soap.Op(name("AdjustStock"), ActionPrefix+"AdjustStock", p.AdjustStockContext)),
		addressing(soap.Op(name("PlaceOrder"), ActionPrefix+"PlaceOrder", p.PlaceOrderContext)),
		addressing(soap.Op(name("GetOrder"), ActionPrefix+"GetOrder", p.GetOrderContext)),
		addressing(soap.Op(name("SearchOrders"), ActionPrefix+"SearchOrders", p.SearchOrdersContext)),
		addressing(soap.Op(name("UpdateOrderStatus"), ActionPrefix+"UpdateOrderStatus", p.UpdateOrderStatusContext)),
		addressing(soap.Op(name("AddReview"), ActionPrefix+"AddReview", p.AddReviewContext)),
		addressing(soap.Op(name("GetReview"), ActionPrefix+"GetReview", p.GetReviewContext)),
		addressing(soap.Op(name("UpdateReview"), ActionPrefix+"UpdateReview", p.UpdateReviewContext)),
		addressing(soap.Op(name("DeleteReview"), ActionPrefix+"DeleteReview", p.DeleteReviewContext)),
		addressing(soap.Op(name("SearchReviews"), ActionPrefix+"SearchReviews", p.SearchReviewsContext)),
	}
}

// DefaultActionPrefix starts the action WS-Addressing derives for an operation
// of CrmPortType when a WSDL names none (namespace/port type/operation), which
// gSOAP and others send in place of a missing soapAction.
const DefaultActionPrefix = Namespace + "/CrmPortType/"

// addressing gives op the reply action of the contract's wsaw:Action (X +
// "Response") and accepts the WS-Addressing default actions of X, with and
// without the "Request" suffix of the input message's name.
func addressing(op soap.Operation) soap.Operation {
	x := op.Name().Local
	return op.Addressing(ActionPrefix+x+"Response", DefaultActionPrefix+x, DefaultActionPrefix+x+"Request")
}

func name(local string) xml.Name { return xml.Name{Space: Namespace, Local: local} }

// Scalars decodes the XML Schema date types strictly: gowsdl's own decoders
// ignore parse errors, and an invalid date must be a VALIDATION_FAILED fault.
var Scalars = map[reflect.Type]soap.ScalarDecoder{
	reflect.TypeFor[xsd.XSDDate]():     decodeDate,
	reflect.TypeFor[xsd.XSDDateTime](): decodeDateTime,
}

// decodeDate accepts xs:date: YYYY-MM-DD with an optional time zone (Z or ±hh:mm).
func decodeDate(text string, dst reflect.Value) error {
	s := strings.TrimSpace(text)
	layout, hasTZ := time.DateOnly, false
	switch {
	case strings.HasSuffix(s, "Z"):
		layout, hasTZ = "2006-01-02Z", true
	case len(s) > 10 && (s[10] == '+' || s[10] == '-'):
		layout, hasTZ = "2006-01-02-07:00", true
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return fmt.Errorf("%q is not a valid xs:date (YYYY-MM-DD)", text)
	}
	dst.Set(reflect.ValueOf(xsd.CreateXsdDate(t, hasTZ)))
	return nil
}

// decodeDateTime accepts xs:dateTime with a time zone (RFC 3339).
func decodeDateTime(text string, dst reflect.Value) error {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(text))
	if err != nil {
		return fmt.Errorf("%q is not a valid xs:dateTime with a time zone", text)
	}
	dst.Set(reflect.ValueOf(xsd.CreateXsdDateTime(t, true)))
	return nil
}
