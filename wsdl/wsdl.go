// Package wsdl holds the crmsoap contract: the WSDL 1.1 document, the Go types and
// CrmPortType interface generated from it by gowsdl, and the table that binds each
// operation to its port-type method.
//
// crmsoap.gen.go is generated; never edit it by hand. Regenerate with `make generate`.
package wsdl

import _ "embed"

//go:generate go tool gowsdl -p wsdl -o crmsoap.gen.go -d .. crmsoap.wsdl

// Namespace is the target namespace of the contract and of every element in it.
const Namespace = "urn:crmsoap:v1"

// Document is the WSDL contract as shipped; the soap handler serves it with the
// addresses rewritten.
//
//go:embed crmsoap.wsdl
var Document []byte
