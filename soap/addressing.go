package soap

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// The WS-Addressing namespaces understood: 1.0 (W3C) and the 2004/08 member
// submission that older stacks (WSE, some gSOAP and Axis set-ups) still send.
const (
	wsaNS     = "http://www.w3.org/2005/08/addressing"
	wsaNS2004 = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
)

// addressing is what a request said in its WS-Addressing headers, and the
// action its response will carry. Nothing in it is verified: with WS-Security
// on, a header counts only once the signature is known to cover it (see
// trustedMessageID), so nothing else here may decide more than an echo
// (RelatesTo) or a refusal (a disagreeing Action).
type addressing struct {
	ns        string // namespace of the request's headers; "" when it sent none
	action    string
	hasAction bool
	// unverifiedMessageID is the request's wsa:MessageID, "" when absent. It
	// is echoed as wsa:RelatesTo; idempotency keys on it only through
	// trustedMessageID.
	unverifiedMessageID string
	messageIDElement    *etree.Element // the wsa:MessageID header block
	reply               string         // wsa:Action of the response, once routed
}

// wsaHeaders are the header blocks of WS-Addressing 1.0 (and of 2004/08) that
// this node understands: it checks Action, echoes MessageID, accepts only the
// anonymous ReplyTo/FaultTo (answers go back on the HTTP connection) and has
// nothing to do with To, From and RelatesTo.
var wsaHeaders = []string{"Action", "MessageID", "To", "From", "ReplyTo", "FaultTo", "RelatesTo"}

func understandsAddressing(n xml.Name) bool {
	return (n.Space == wsaNS || n.Space == wsaNS2004) && slices.Contains(wsaHeaders, n.Local)
}

// understands reports whether this node processes header block n: WS-Addressing
// here, anything else by the Security hook.
func (h *Handler) understands(n xml.Name) bool {
	return understandsAddressing(n) || h.cfg.Security != nil && h.cfg.Security.Understands(n)
}

// readAddressing reads the WS-Addressing headers of a request. A repeated
// Action or MessageID, or a ReplyTo/FaultTo that is not anonymous, is a
// MALFORMED_REQUEST.
func readAddressing(header *etree.Element, a *addressing) error {
	if header == nil {
		return nil
	}
	scope := xmlparse.ScopeAt(header)
	for _, block := range header.ChildElements() {
		mark := scope.Push(block)
		err := readAddressingBlock(scope, block, a)
		scope.Pop(mark)
		if err != nil {
			return err
		}
	}
	return nil
}

// readAddressingBlock reads one header block; scope holds its declarations.
func readAddressingBlock(scope *xmlparse.Scope, block *etree.Element, a *addressing) error {
	ns := scope.Elem(block)
	if ns != wsaNS && ns != wsaNS2004 {
		return nil
	}
	a.ns = ns
	switch block.Tag {
	case "Action":
		if a.hasAction {
			return malformed("the header wsa:Action appears more than once")
		}
		a.action, a.hasAction = strings.TrimSpace(block.Text()), true
	case "MessageID":
		if a.unverifiedMessageID != "" {
			return malformed("the header wsa:MessageID appears more than once")
		}
		a.unverifiedMessageID = strings.TrimSpace(block.Text())
		a.messageIDElement = block
	case "ReplyTo", "FaultTo":
		if err := checkAnonymous(scope, block, ns); err != nil {
			return err
		}
	}
	return nil
}

// checkAnonymous refuses a reply endpoint this node cannot send to; scope holds epr's declarations.
func checkAnonymous(scope *xmlparse.Scope, epr *etree.Element, ns string) error {
	var address string
	for _, c := range epr.ChildElements() {
		if c.Tag != "Address" {
			continue
		}
		mark := scope.Push(c)
		if scope.Elem(c) == ns {
			address = strings.TrimSpace(c.Text())
		}
		scope.Pop(mark)
	}
	switch address {
	case "", wsaNS + "/anonymous", wsaNS + "/none", wsaNS2004 + "/role/anonymous":
		return nil
	}
	return malformed("wsa:%s %q is not supported: responses go back on the HTTP connection, "+
		"so send no %s or the anonymous address %s/anonymous", epr.Tag, address, epr.Tag, ns)
}

// checkActions checks the transport's action (SOAPAction or the action
// parameter; "" when none) and the wsa:Action header against the operation of
// the body element: each, when present, must be one of the operation's actions.
func checkActions(op *Operation, v Version, transport string, a *addressing) error {
	if transport != "" && !op.accepts(transport) {
		header := "SOAPAction"
		if v == V12 {
			header = "the action parameter of the Content-Type"
		}
		return actionMismatch(op, header, transport)
	}
	if a.hasAction && !op.accepts(a.action) {
		return actionMismatch(op, "the header wsa:Action", a.action)
	}
	return nil
}

func actionMismatch(op *Operation, where, got string) error {
	var want strings.Builder
	want.WriteString(strconv.Quote(op.action))
	for i, alt := range op.alternatives {
		if i == len(op.alternatives)-1 {
			want.WriteString(" or ")
		} else {
			want.WriteString(", ")
		}
		want.WriteString(strconv.Quote(alt))
	}
	return malformed("%s %q does not match the body element %s: expected %s",
		where, got, op.name.Local, want.String())
}

// writeAddressingHeader writes the response's Header with wsa:Action and
// wsa:RelatesTo when the request had a wsa:MessageID (WS-Addressing 1.0 SOAP
// binding, 3.4); action is the reply's action.
func writeAddressingHeader(buf *bytes.Buffer, v Version, a *addressing, action string) {
	if a.unverifiedMessageID == "" {
		return
	}
	p := envPrefix(v)
	buf.WriteString("<" + p + `:Header><wsa:Action xmlns:wsa="` + a.ns + `">`)
	escape(buf, action)
	buf.WriteString(`</wsa:Action><wsa:RelatesTo xmlns:wsa="` + a.ns + `">`)
	escape(buf, a.unverifiedMessageID)
	buf.WriteString("</wsa:RelatesTo></" + p + ":Header>")
}

// faultAction is the wsa:Action of a fault (WS-Addressing 1.0 SOAP binding, 6;
// the 2004/08 submission has one action for every fault).
func faultAction(a *addressing) string {
	if a.ns == wsaNS2004 {
		return wsaNS2004 + "/fault"
	}
	return wsaNS + "/soap/fault"
}

// Addressing returns o with its WS-Addressing metadata: reply is the
// wsa:Action of its responses (default: o's action + "Response"), and
// alternatives are further actions accepted as o's own in SOAPAction, the SOAP
// 1.2 action parameter and wsa:Action, such as the defaults of WS-Addressing
// that clients derive when a WSDL names none (`ns/PortType/Op` and
// `ns/PortType/OpRequest`). Any other action that disagrees with the body
// element is refused.
func (o Operation) Addressing(reply string, alternatives ...string) Operation {
	o.reply = reply
	o.alternatives = slices.Clone(alternatives)
	return o
}

// accepts reports whether action names o.
func (o *Operation) accepts(action string) bool {
	return action == o.action || slices.Contains(o.alternatives, action)
}

// replyAction is the wsa:Action of o's responses.
func (o *Operation) replyAction() string {
	if o.reply != "" {
		return o.reply
	}
	return o.action + "Response"
}
