// Package wssec implements WS-Security 1.1 X.509 signatures for SOAP messages: it verifies signed requests
// (Verifier), signs requests and responses (Signer) and checks signed responses on the client side
// (VerifyResponse).
//
// The verifier is deliberately as strict as Apache WSS4J: exactly one wsse:Security header for the ultimate
// receiver, one wsu:Timestamp, one ds:Signature whose SignedInfo covers the envelope's own Body and that
// Timestamp by ID, exclusive canonicalization only, no comments inside signed content, SHA-2 algorithms,
// registered certificates, and a bounded replay cache. Every refusal is an *Error carrying the WS-Security
// fault subcode.
//
// Canonicalization is this package's own exclusive c14n 1.0 implementation (c14n.go): goxmldsig's canonicalizer
// mutates its input, stops at 1,000 children, ignores the PrefixList of SignedInfo and orders attributes from
// different namespaces by local name. goxmldsig is used for its algorithm identifiers only.
//
// The package is generic SOAP security: it imports the standard library, etree, goxmldsig and its parent
// package soap, never the service, store or wsdl packages.
package wssec
