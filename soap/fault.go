package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"reflect"
	"strconv"
)

// role is who a fault blames, as far as SOAP is concerned.
type role int

const (
	roleSender role = iota
	roleReceiver
	roleVersionMismatch
	roleMustUnderstand
)

// faultRow is the faultcode (local part, in the envelope namespace) and HTTP
// status of a role in one SOAP version.
type faultRow struct {
	code   string
	status int
}

// faultTable is the one mapping from (version, role) to faultcode and HTTP status.
// SOAP 1.1 faults are all HTTP 500 (WS-I Basic Profile R1126); SOAP 1.2 sender
// faults are 400 (SOAP 1.2 part 2, 7.5.1.2).
var faultTable = map[Version][4]faultRow{
	V11: {
		roleSender:          {"Client", http.StatusInternalServerError},
		roleReceiver:        {"Server", http.StatusInternalServerError},
		roleVersionMismatch: {"VersionMismatch", http.StatusInternalServerError},
		roleMustUnderstand:  {"MustUnderstand", http.StatusInternalServerError},
	},
	V12: {
		roleSender:          {"Sender", http.StatusBadRequest},
		roleReceiver:        {"Receiver", http.StatusInternalServerError},
		roleVersionMismatch: {"VersionMismatch", http.StatusInternalServerError},
		roleMustUnderstand:  {"MustUnderstand", http.StatusInternalServerError},
	},
}

// fault is everything needed to write one fault envelope.
type fault struct {
	role          role
	subcode       xml.Name
	reason        string
	detail        any // marshalled as the direct child of detail; nil: no detail
	status        int // overrides the table when non-zero
	outcome       string
	notUnderstood []xml.Name
	upgrade       bool
	wsa           *addressing // the request's WS-Addressing headers; nil: none
}

// internalMessage is the only text a client ever sees of an unexpected error.
const internalMessage = "internal error"

// faultFor turns any error into the fault to send. internal reports an error
// that is neither a Fault nor a known SOAP failure: its text stays in the logs.
func (h *Handler) faultFor(err error) (f fault, internal bool) {
	var (
		se *Error
		af Fault
		vm *versionMismatchError
		mu *mustUnderstandError
	)
	switch {
	case errors.As(err, &se):
		f = fault{role: roleSender, subcode: se.Subcode, reason: se.Message, status: se.Status, outcome: se.Code}
		if !se.clientFault() {
			f.role = roleReceiver
		}
		if h.cfg.Detail != nil {
			f.detail = h.cfg.Detail(se.Code, se.Message, se.Field)
		}
		return f, false
	case errors.As(err, &af):
		f = fault{role: roleReceiver, reason: af.FaultString(), detail: af.FaultDetail(), outcome: outcomeOf(af)}
		if af.ClientFault() {
			f.role = roleSender
		}
		return f, false
	case errors.As(err, &vm):
		// SOAP 1.1 says detail is for Body errors only: header-level faults carry none.
		return fault{role: roleVersionMismatch, reason: "the envelope namespace " + strconv.Quote(vm.found) +
			" is not the one of the content type: SOAP 1.1 is text/xml with " + NS11 +
			", SOAP 1.2 is application/soap+xml with " + NS12, outcome: "VersionMismatch", upgrade: true}, false
	case errors.As(err, &mu):
		return fault{role: roleMustUnderstand, reason: mu.Error(), outcome: "MustUnderstand", notUnderstood: mu.blocks}, false
	}
	f = fault{role: roleReceiver, reason: internalMessage, outcome: CodeInternal}
	if h.cfg.Detail != nil {
		f.detail = h.cfg.Detail(CodeInternal, internalMessage, "")
	}
	return f, true
}

// outcomeOf names an application fault for the log: its FaultCode() when it has
// one, else the Code field of its detail (CrmFault-like), else its role.
func outcomeOf(af Fault) string {
	if c, ok := af.(interface{ FaultCode() string }); ok {
		return c.FaultCode()
	}
	v := reflect.ValueOf(af.FaultDetail())
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		c := v.FieldByName("Code")
		for c.Kind() == reflect.Pointer && !c.IsNil() {
			c = c.Elem()
		}
		if c.Kind() == reflect.String && c.String() != "" {
			return c.String()
		}
	}
	if af.ClientFault() {
		return "client_fault"
	}
	return "server_fault"
}

// statusOf is the HTTP status of f in version v; sender12, when not zero,
// replaces the table's 400 of SOAP 1.2 Sender faults (Config.SenderStatus12).
func statusOf(v Version, f *fault, sender12 int) int {
	if f.status != 0 {
		return f.status
	}
	if v == V12 && f.role == roleSender && sender12 != 0 {
		return sender12
	}
	return faultTable[v][f.role].status
}

// writeFaultEnvelope renders f as a SOAP v fault envelope into buf. It fails only
// when the detail value does not marshal.
func writeFaultEnvelope(buf *bytes.Buffer, v Version, f *fault) error {
	p := envPrefix(v)
	openEnvelope(buf, v)
	writeFaultHeader(buf, v, f)
	buf.WriteString("<" + p + ":Body><" + p + ":Fault>")
	code := faultTable[v][f.role].code
	if v == V11 {
		writeFaultcode11(buf, code, f.subcode)
		buf.WriteString("<faultstring>")
		escape(buf, f.reason)
		buf.WriteString("</faultstring>")
	} else {
		buf.WriteString("<env:Code><env:Value>env:" + code + "</env:Value>")
		if f.subcode.Local != "" {
			buf.WriteString("<env:Subcode><env:Value")
			writeQName(buf, f.subcode)
			buf.WriteString("</env:Value></env:Subcode>")
		}
		buf.WriteString(`</env:Code><env:Reason><env:Text xml:lang="en">`)
		escape(buf, f.reason)
		buf.WriteString("</env:Text></env:Reason>")
	}
	if f.detail != nil {
		open, end := "<detail>", "</detail>"
		if v == V12 {
			open, end = "<env:Detail>", "</env:Detail>"
		}
		buf.WriteString(open)
		if err := encodeXML(buf, f.detail, nil); err != nil {
			return err
		}
		buf.WriteString(end)
	}
	buf.WriteString("</" + p + ":Fault></" + p + ":Body></" + p + ":Envelope>")
	return nil
}

// writeFaultcode11 writes the SOAP 1.1 faultcode: the subcode QName itself when
// there is one (WS-Security 1.x for SOAP 1.1), else soap:<code>.
func writeFaultcode11(buf *bytes.Buffer, code string, subcode xml.Name) {
	if subcode.Local == "" {
		buf.WriteString("<faultcode>soap:" + code + "</faultcode>")
		return
	}
	buf.WriteString("<faultcode")
	writeQName(buf, subcode)
	buf.WriteString("</faultcode>")
}

// writeQName writes ` xmlns:p="space">p:local` (the end of a start tag and a
// QName as content), or just `>local` for a name in no namespace.
func writeQName(buf *bytes.Buffer, n xml.Name) {
	if n.Space == "" {
		buf.WriteString(">")
		escape(buf, n.Local)
		return
	}
	p := prefixFor(n.Space)
	buf.WriteString(" xmlns:" + p + `="`)
	escape(buf, n.Space)
	buf.WriteString(`">` + p + ":")
	escape(buf, n.Local)
}

// wsseNS is the WS-Security 1.0 secext namespace, the usual home of subcodes.
const (
	wsseNS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	wsuNS  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
)

func prefixFor(space string) string {
	switch space {
	case wsseNS:
		return "wsse"
	case wsuNS:
		return "wsu"
	}
	return "q"
}

// writeFaultHeader writes the Upgrade block of a VersionMismatch fault (SOAP 1.2
// part 1, 5.4.7 and appendix A, for both versions) and the NotUnderstood blocks
// of a SOAP 1.2 MustUnderstand fault.
func writeFaultHeader(buf *bytes.Buffer, v Version, f *fault) {
	nu := v == V12 && len(f.notUnderstood) > 0
	wsa := f.wsa != nil && f.wsa.unverifiedMessageID != ""
	if !f.upgrade && !nu && !wsa {
		return
	}
	if !f.upgrade && !nu {
		writeAddressingHeader(buf, v, f.wsa, faultAction(f.wsa))
		return
	}
	p := envPrefix(v)
	buf.WriteString("<" + p + ":Header>")
	if f.upgrade {
		buf.WriteString(`<upg:Upgrade xmlns:upg="` + NS12 + `">` +
			`<upg:SupportedEnvelope qname="upg:Envelope"/>` +
			`<upg:SupportedEnvelope qname="s11:Envelope" xmlns:s11="` + NS11 + `"/>` +
			`</upg:Upgrade>`)
	}
	if nu {
		for _, n := range f.notUnderstood {
			buf.WriteString(`<env:NotUnderstood qname="`)
			if n.Space == "" {
				escape(buf, n.Local)
				buf.WriteString(`"/>`)
				continue
			}
			buf.WriteString("nu:")
			escape(buf, n.Local)
			buf.WriteString(`" xmlns:nu="`)
			escape(buf, n.Space)
			buf.WriteString(`"/>`)
		}
	}
	buf.WriteString("</" + p + ":Header>")
}

func envPrefix(v Version) string {
	if v == V12 {
		return "env"
	}
	return "soap"
}

const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func openEnvelope(buf *bytes.Buffer, v Version) {
	buf.WriteString(xmlDecl)
	if v == V12 {
		buf.WriteString(`<env:Envelope xmlns:env="` + NS12 + `">`)
	} else {
		buf.WriteString(`<soap:Envelope xmlns:soap="` + NS11 + `">`)
	}
}

func escape(buf *bytes.Buffer, s string) { escapeString(buf, s) }

// contentTypeOf is the response media type of version v.
func contentTypeOf(v Version) string {
	if v == V12 {
		return "application/soap+xml; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}
