package wssec

import (
	"encoding/xml"
	"errors"
	"strings"
)

// Namespaces of WS-Security 1.0/1.1, the utility schema and the token profiles.
const (
	NamespaceWSSE    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NamespaceWSU     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	NamespaceWSSE11  = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
	NamespaceDSig    = "http://www.w3.org/2000/09/xmldsig#"
	NamespaceExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
)

// Fault subcodes defined by WS-Security 1.1 (section 12). Each *Error carries one of them.
var (
	FaultUnsupportedSecurityToken = xml.Name{Space: NamespaceWSSE, Local: "UnsupportedSecurityToken"}
	FaultUnsupportedAlgorithm     = xml.Name{Space: NamespaceWSSE, Local: "UnsupportedAlgorithm"}
	FaultInvalidSecurity          = xml.Name{Space: NamespaceWSSE, Local: "InvalidSecurity"}
	FaultInvalidSecurityToken     = xml.Name{Space: NamespaceWSSE, Local: "InvalidSecurityToken"}
	FaultFailedAuthentication     = xml.Name{Space: NamespaceWSSE, Local: "FailedAuthentication"}
	FaultFailedCheck              = xml.Name{Space: NamespaceWSSE, Local: "FailedCheck"}
	FaultSecurityTokenUnavailable = xml.Name{Space: NamespaceWSSE, Local: "SecurityTokenUnavailable"}
	FaultMessageExpired           = xml.Name{Space: NamespaceWSU, Local: "MessageExpired"}
)

// Error is a refused security check. Subcode is the WS-Security fault QName, Reason a short message that is
// safe to send to the client (it never contains key material or a whole certificate), Err the cause for logs.
type Error struct {
	Subcode xml.Name
	Reason  string
	Err     error
}

func (e *Error) Error() string {
	s := e.Subcode.Local + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func newError(subcode xml.Name, reason string) *Error {
	return &Error{Subcode: subcode, Reason: reason}
}

func wrapError(subcode xml.Name, reason string, err error) *Error {
	return &Error{Subcode: subcode, Reason: reason, Err: err}
}

func invalid(reason string) *Error { return newError(FaultInvalidSecurity, reason) }

// asError returns err as an *Error, or wraps it with the given subcode and reason.
func asError(err error, subcode xml.Name, reason string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return wrapError(subcode, reason, err)
}

// quoteID renders an untrusted ID for a fault reason: "#id" when it is a short plain token, "#..." otherwise,
// so that a fault never reflects arbitrary attacker text.
func quoteID(id string) string {
	if id == "" || len(id) > 64 {
		return "#..."
	}
	for _, r := range id {
		ok := r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return "#..."
		}
	}
	return "#" + id
}

// algName names an algorithm URI for a fault reason: the fragment or last path segment of a known-shaped URI.
func algName(uri string) string {
	s := uri
	if i := strings.LastIndexAny(s, "#/"); i >= 0 && i+1 < len(s) {
		s = s[i+1:]
	}
	if len(s) > 40 {
		s = s[:40]
	}
	out := []rune{}
	for _, r := range s {
		if r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return "unknown"
	}
	return string(out)
}
