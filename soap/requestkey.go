package soap

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// A request that carries a wsa:MessageID may be retried by its client after a
// lost response; the application recognises the retry by the request key: the
// MessageID, the operation and a hash of the operation element. The hash is of
// the element as parsed (names with their namespaces, attributes, trimmed text),
// not of the bytes: a retry signed again, with a new Timestamp and Signature
// and perhaps other prefixes, has the same key.

type signedKey struct{}

// WithSigned returns ctx carrying the elements a Security hook verified a
// signature over. A wsa:MessageID counts as a request key (RequestKeyFrom) only
// when it is one of them or inside one; with no Security hook every MessageID
// counts.
func WithSigned(ctx context.Context, elements []*etree.Element) context.Context {
	return context.WithValue(ctx, signedKey{}, elements)
}

func signedFrom(ctx context.Context) []*etree.Element {
	els, _ := ctx.Value(signedKey{}).([]*etree.Element)
	return els
}

// trustedMessageID is the request's MessageID when it may key a retry: always
// without message security, else only when the signature covers it.
func trustedMessageID(ctx context.Context, secured bool, a *addressing) string {
	if a.unverifiedMessageID == "" {
		return ""
	}
	if !secured {
		return a.unverifiedMessageID
	}
	signed := signedFrom(ctx)
	for e := a.messageIDElement; e != nil; e = e.Parent() {
		if slices.Contains(signed, e) {
			return a.unverifiedMessageID
		}
	}
	return ""
}

type requestKeyKey struct{}

// requestKey is the request key of one call; the body hash is computed on
// first use, by the operation's goroutine, while the parsed tree is alive.
type requestKey struct {
	messageID, operation string
	body                 *etree.Element
	hashed               bool
	sum                  [32]byte
}

func withRequestKey(ctx context.Context, messageID, operation string, body *etree.Element) context.Context {
	return context.WithValue(ctx, requestKeyKey{}, &requestKey{messageID: messageID, operation: operation, body: body})
}

// RequestKeyFrom is the request key of the call in ctx: its wsa:MessageID (a
// signed one when WS-Security is on), the local name of its operation and the
// SHA-256 of its operation element in canonical form. ok is false when the
// request carries no MessageID that counts. Call it only while the operation runs.
func RequestKeyFrom(ctx context.Context) (messageID, operation string, bodyHash [32]byte, ok bool) {
	k, _ := ctx.Value(requestKeyKey{}).(*requestKey)
	if k == nil {
		return "", "", bodyHash, false
	}
	if !k.hashed {
		k.sum, k.hashed = CanonicalHash(k.body), true
		k.body = nil
	}
	return k.messageID, k.operation, k.sum, true
}

// CanonicalHash is the SHA-256 of e as parsed: each element's namespace and
// local name, its attributes (namespace declarations left out) sorted by
// namespace and name, and its text trimmed of surrounding white space, each
// length-prefixed. Prefixes, attribute order, namespace declarations and
// indentation do not change it. Namespaces are resolved through one scope
// maintained on the way down, so the work is linear in the size of e and its
// ancestors' declarations, however many a sender declares.
func CanonicalHash(e *etree.Element) [32]byte {
	h := sha256.New()
	sc := &hashScope{m: map[string]string{"xml": "http://www.w3.org/XML/1998/namespace"}}
	var path []*etree.Element
	for p := e.Parent(); p != nil; p = p.Parent() {
		path = append(path, p)
	}
	for i := len(path) - 1; i >= 0; i-- {
		sc.push(path[i])
	}
	canonicalWrite(h, sc, e)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// hashScope maps prefixes to namespaces ("" the default one) for the element
// being visited; push records what an element's declarations replace, pop
// restores it.
type hashScope struct {
	m    map[string]string
	undo []hashBinding
}

type hashBinding struct {
	prefix, ns string
	had        bool
}

func (s *hashScope) push(e *etree.Element) int {
	mark := len(s.undo)
	for _, a := range e.Attr {
		prefix, ok := "", false
		switch {
		case a.Space == "xmlns":
			prefix, ok = a.Key, true
		case a.Space == "" && a.Key == "xmlns":
			ok = true
		}
		if ok {
			old, had := s.m[prefix]
			s.undo = append(s.undo, hashBinding{prefix, old, had})
			s.m[prefix] = a.Value
		}
	}
	return mark
}

func (s *hashScope) pop(mark int) {
	for i := len(s.undo) - 1; i >= mark; i-- {
		b := s.undo[i]
		if b.had {
			s.m[b.prefix] = b.ns
		} else {
			delete(s.m, b.prefix)
		}
	}
	s.undo = s.undo[:mark]
}

// resolve is the namespace of prefix; an undeclared prefix (which the parser
// refuses) stays apart from every namespace.
func (s *hashScope) resolve(prefix string) string {
	if ns, ok := s.m[prefix]; ok {
		return ns
	}
	if prefix == "" {
		return ""
	}
	return "\x00" + prefix
}

func canonicalWrite(h hash.Hash, sc *hashScope, e *etree.Element) {
	mark := sc.push(e)
	defer sc.pop(mark)
	put := func(tag byte, s string) {
		var n [binary.MaxVarintLen64 + 1]byte
		n[0] = tag
		l := binary.PutUvarint(n[1:], uint64(len(s)))
		h.Write(n[:l+1])
		h.Write([]byte(s))
	}
	put('<', sc.resolve(e.Space))
	put(':', e.Tag)
	type attr struct{ ns, name, value string }
	var attrs []attr
	for _, a := range e.Attr {
		if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
			continue
		}
		ns := ""
		if a.Space != "" { // unprefixed attributes have no namespace
			ns = sc.resolve(a.Space)
		}
		attrs = append(attrs, attr{ns, a.Key, a.Value})
	}
	slices.SortFunc(attrs, func(x, y attr) int {
		if c := strings.Compare(x.ns, y.ns); c != 0 {
			return c
		}
		return strings.Compare(x.name, y.name)
	})
	for _, a := range attrs {
		put('@', a.ns)
		put('=', a.name)
		put('"', a.value)
	}
	var text strings.Builder
	for _, t := range e.Child {
		switch c := t.(type) {
		case *etree.CharData:
			text.WriteString(c.Data)
		case *etree.Element:
			if s := strings.TrimSpace(text.String()); s != "" {
				put('t', s)
			}
			text.Reset()
			canonicalWrite(h, sc, c)
		}
	}
	if s := strings.TrimSpace(text.String()); s != "" {
		put('t', s)
	}
	put('>', "")
}
