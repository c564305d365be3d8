package xmlparse

import (
	"fmt"
	"strconv"
)

// Kind says why a document was refused.
type Kind uint8

// The kinds of refusal.
const (
	// Malformed is a document that is not well-formed XML 1.0 for any
	// conforming parser: a bad tag, an unclosed element, a bad reference.
	Malformed Kind = iota + 1
	// Strict is a document lenient parsers (encoding/xml, etree) take but that
	// breaks a rule this parser enforces: Namespaces in XML, unique attributes,
	// legal names and characters, the grammar of the XML declaration, nothing
	// but white space outside the root element.
	Strict
	// Forbidden is legal XML refused on purpose: a DOCTYPE or other directive,
	// a processing instruction, XML 1.1, an encoding other than UTF-8.
	Forbidden
	// LimitExceeded is a document over a limit: its size, depth, number of
	// elements, attributes of one element or namespace declarations in scope.
	LimitExceeded
)

// Error is a refused document. Its message is safe to send back to the sender:
// it names the construct and where it is, never more than a clipped name of
// the input.
type Error struct {
	Kind Kind
	// Msg says what is wrong.
	Msg string
	// Line and Column (in characters, from 1) locate a syntax error; both are
	// 0 when the error is about the document as a whole.
	Line, Column int
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return e.Msg + " (line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Column) + ")"
}

// refuse is an error about the document as a whole, without a position.
func refuse(kind Kind, format string, args ...any) *Error {
	if len(args) > 0 {
		format = fmt.Sprintf(format, args...)
	}
	return &Error{Kind: kind, Msg: format}
}
