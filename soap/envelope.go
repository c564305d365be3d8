package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// Roles a header block may target that mean this node (the ultimate receiver).
const (
	actorNext11          = "http://schemas.xmlsoap.org/soap/actor/next"
	roleNext12           = "http://www.w3.org/2003/05/soap-envelope/role/next"
	roleUltimateReceiver = "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
)

// versionMismatchError is an envelope in a namespace this node does not speak
// for the transport it came on.
type versionMismatchError struct{ found string }

func (e *versionMismatchError) Error() string {
	return "envelope namespace " + e.found + " does not match the SOAP version of the content type"
}

// mustUnderstandError names the mustUnderstand header blocks nobody understands.
type mustUnderstandError struct{ blocks []xml.Name }

func (e *mustUnderstandError) Error() string {
	names := make([]string, len(e.blocks))
	for i, n := range e.blocks {
		names[i] = "{" + n.Space + "}" + n.Local
	}
	return "header block " + strings.Join(names, ", ") + " marked mustUnderstand is not understood"
}

// parseEnvelope parses (one pass, see xmlParser) and checks the structure of an
// envelope that arrived on the transport of version want.
func parseEnvelope(raw []byte, want Version, maxDepth, maxElements int) (*Envelope, error) {
	// A UTF-8 byte order mark is allowed before the XML declaration.
	unverified := bytes.TrimPrefix(raw, []byte("\ufeff"))
	doc, err := xmlparse.Parse(unverified, maxDepth, maxElements)
	if err != nil {
		return nil, xmlError(err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "Envelope" {
		return nil, malformed("the root element is not a SOAP Envelope")
	}
	scope := xmlparse.ScopeAt(root)
	ns := scope.Elem(root)
	v := versionOf(ns)
	if v != want {
		return nil, &versionMismatchError{found: ns}
	}
	env := &Envelope{Doc: doc, Version: v, Raw: raw}
	if err := envelopeChildren(root, scope, ns, env); err != nil {
		return nil, err
	}
	if err := checkBody(env.Body); err != nil {
		return nil, err
	}
	return env, nil
}

func versionOf(ns string) Version {
	switch ns {
	case NS11:
		return V11
	case NS12:
		return V12
	}
	return 0
}

// envelopeChildren accepts an optional Header then exactly one Body and nothing else. scope holds root's
// declarations.
func envelopeChildren(root *etree.Element, scope *xmlparse.Scope, ns string, env *Envelope) error {
	for _, tok := range root.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if !isBlank(t.Data) {
				return malformed("text is not allowed in Envelope")
			}
		case *etree.Element:
			mark := scope.Push(t)
			local, tns := t.Tag, scope.Elem(t)
			scope.Pop(mark)
			switch {
			case tns == ns && local == "Header" && env.Header == nil && env.Body == nil:
				env.Header = t
			case tns == ns && local == "Body" && env.Body == nil:
				env.Body = t
			default:
				return malformed("unexpected element %s in Envelope: want an optional Header, then one Body", local)
			}
		}
	}
	if env.Body == nil {
		return malformed("the Envelope has no Body")
	}
	return nil
}

// checkBody insists on exactly one child element and no text.
func checkBody(body *etree.Element) error {
	n := 0
	for _, tok := range body.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if !isBlank(t.Data) {
				return malformed("text is not allowed in Body")
			}
		case *etree.Element:
			n++
		}
	}
	switch {
	case n == 0:
		return malformed("the Body is empty")
	case n > 1:
		return malformed("the Body has %d child elements: want exactly one", n)
	}
	return nil
}

// notUnderstood lists the header blocks targeted at this node, marked
// mustUnderstand, that understands does not know.
func notUnderstood(env *Envelope, understands func(xml.Name) bool) error {
	if env.Header == nil {
		return nil
	}
	ns := NS11
	if env.Version == V12 {
		ns = NS12
	}
	var missing []xml.Name
	scope := xmlparse.ScopeAt(env.Header)
	for _, block := range env.Header.ChildElements() {
		mark := scope.Push(block)
		if targetsUs(scope, block, ns, env.Version) && mustUnderstand(scope, block, ns) {
			name := xml.Name{Space: scope.Elem(block), Local: block.Tag}
			if understands == nil || !understands(name) {
				missing = append(missing, name)
			}
		}
		scope.Pop(mark)
	}
	if len(missing) > 0 {
		return &mustUnderstandError{blocks: missing}
	}
	return nil
}

// envAttr is the value of e's attribute {ns}local; scope holds e's declarations.
func envAttr(scope *xmlparse.Scope, e *etree.Element, ns, local string) (string, bool) {
	for i := range e.Attr {
		a := &e.Attr[i]
		if a.Key == local && a.Space != "" && scope.Attr(a) == ns {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

func mustUnderstand(scope *xmlparse.Scope, block *etree.Element, ns string) bool {
	v, _ := envAttr(scope, block, ns, "mustUnderstand")
	return v == "1" || v == "true"
}

func targetsUs(scope *xmlparse.Scope, block *etree.Element, ns string, v Version) bool {
	if v == V11 {
		actor, ok := envAttr(scope, block, ns, "actor")
		return !ok || actor == "" || actor == actorNext11
	}
	role, ok := envAttr(scope, block, ns, "role")
	return !ok || role == "" || role == roleNext12 || role == roleUltimateReceiver
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// xmlError is a refusal of the XML parser as a MALFORMED_REQUEST; its message
// says what and where, and nothing of the input beyond a clipped name.
func xmlError(err error) *Error {
	var xe *xmlparse.Error
	if errors.As(err, &xe) {
		return &Error{Code: CodeMalformedRequest, Message: xe.Error()}
	}
	return &Error{Code: CodeMalformedRequest, Message: "XML is not well-formed", Err: err}
}

func malformed(format string, args ...any) *Error {
	return errorf(CodeMalformedRequest, "", format, args...)
}
