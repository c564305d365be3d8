package wssec

import (
	"errors"
	"io"
	"strconv"

	"github.com/beevik/etree"
)

// Bounds on canonical output. Exclusive c14n may declare again, on every element, a namespace its parent
// did not use, so a document of n elements and a URI of m bytes canonicalizes to n*m bytes; these bounds
// keep the output, and the hashing after it, linear in the input.
const (
	// MaxSignedInfoBytes caps the canonical SignedInfo, which is produced before the signature is checked:
	// a real one (a few references) is well under 4 KiB.
	MaxSignedInfoBytes = 64 << 10
	// maxC14NGrowth and c14nSlack bound the canonical form of a signed element to maxC14NGrowth times its
	// size as parsed (names, attributes and text) plus c14nSlack, counted in canonical characters (a
	// character reference such as "&gt;" is the one character it stands for, as in work.references). What real clients sign
	// (TestC14NBudget_HonestSignedRequests: our signer, zeep and xmlsec1 on a Body of 1,000 items, the
	// envelopes of other stacks in testdata) canonicalizes to at most 1.01 times its size for a Body over
	// 4 KiB, since a client declares the namespaces of a Body's content once, on the content or above it,
	// and to at most 200 characters more than its size for a small Body or Timestamp, the namespaces the
	// signed element inherits being declared again on it. 2x leaves that room twice over, and 16 KiB
	// covers the inherited declarations many times. Output beyond that comes from a namespace declared
	// again on every sibling that uses it (a long URI on the Envelope, used by each of many elements of the
	// Body), which no client produces; with 8x and 64 KiB it reached 11.7 times an honest request's work
	// per byte.
	maxC14NGrowth = 2
	c14nSlack     = 16 << 10
	// maxPrefixList caps the InclusiveNamespaces PrefixList of one canonicalization: every element of the
	// output asks about each entry.
	maxPrefixList = 64
)

var (
	errSignedInfoTooLarge = invalid("canonical SignedInfo is larger than " + strconv.Itoa(MaxSignedInfoBytes) + " bytes")
	errC14NTooLarge       = invalid("canonical form of signed content is more than " + strconv.Itoa(maxC14NGrowth) +
		" times its size")
	errPrefixList = invalid("InclusiveNamespaces PrefixList has more than " + strconv.Itoa(maxPrefixList) + " prefixes")
)

// errOverLimit is what limitWriter returns to the buffered writer; the canonicalizer reports its own error.
var errOverLimit = errors.New("canonical output over its limit")

// limitWriter passes at most left bytes to w; past that it refuses every write and remembers it did. With
// chars set, the canonicalizer gives back the extra bytes of each character reference it writes, so that
// left counts characters (a reference as the one character it stands for).
type limitWriter struct {
	w        io.Writer
	left     int64
	chars    bool
	exceeded bool
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.exceeded || int64(len(p)) > l.left {
		l.exceeded = true
		return 0, errOverLimit
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

// c14nBudget is the most canonical characters el may produce when no explicit limit is set: maxC14NGrowth
// times its size as parsed, plus c14nSlack.
func c14nBudget(el *etree.Element) int64 { return maxC14NGrowth*parsedSize(el) + c14nSlack }

// parsedSize is the size of el's subtree as parsed: the shortest XML that parses to it (an element without
// content as <p:name/>), counting names, attributes (namespace declarations included) and text, with
// references as one character. It reads the subtree once.
func parsedSize(el *etree.Element) int64 {
	qname := func(space, local string) int64 {
		if space == "" {
			return int64(len(local))
		}
		return int64(len(space) + 1 + len(local))
	}
	n := int64(0)
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if len(e.Child) == 0 {
			n += qname(e.Space, e.Tag) + 3 // <name/>
		} else {
			n += 2*qname(e.Space, e.Tag) + 5 // <name></name>
		}
		for _, a := range e.Attr {
			n += qname(a.Space, a.Key) + int64(len(a.Value)) + 4 // ` name="value"`
		}
		for _, t := range e.Child {
			switch t := t.(type) {
			case *etree.Element:
				walk(t)
			case *etree.CharData:
				n += int64(len(t.Data))
			}
		}
	}
	walk(el)
	return n
}
