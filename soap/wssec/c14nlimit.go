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
	// size (names, attributes and text as parsed) plus c14nSlack, which leaves room for the escaping of
	// text (at most six bytes for one) and for the namespaces the apex element declares.
	maxC14NGrowth = 8
	c14nSlack     = 64 << 10
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

// limitWriter passes at most left bytes to w; past that it refuses every write and remembers it did.
type limitWriter struct {
	w        io.Writer
	left     int64
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

// c14nBudget is the most canonical bytes el may produce when no explicit limit is set: maxC14NGrowth times
// its size as parsed, plus c14nSlack. It reads the subtree once.
func c14nBudget(el *etree.Element) int64 {
	n := int64(0)
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		n += int64(2*(len(e.Space)+len(e.Tag)) + 5)
		for _, a := range e.Attr {
			n += int64(len(a.Space) + len(a.Key) + len(a.Value) + 4)
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
	return maxC14NGrowth*n + c14nSlack
}
