package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// Page tokens and feed cursors are opaque to clients and tamper-evident: the
// base64url of
//
//	version (1 byte) | kind (1 byte) | position (8 bytes, big endian) |
//	binding (16 bytes: SHA-256 prefix of what the token is bound to, such as a
//	search's filter) | HMAC-SHA256 of all of that with the database's secret
//
// A token that is not base64url, has the wrong length, version or kind, was
// issued for another filter or by another database, or was altered in any byte,
// fails to open; the caller answers VALIDATION_FAILED, and nothing reaches the store.

// tokenKind says what a token continues; a token of one kind opens as no other.
type tokenKind byte

// The kinds of token.
const (
	tokenSearchCustomers tokenKind = 'S'
	tokenFeed            tokenKind = 'F'
	tokenSearchProducts  tokenKind = 'P'
	tokenSearchOrders    tokenKind = 'O'
	tokenSearchReviews   tokenKind = 'R'
)

const (
	tokenVersion  = 1
	tokenBindLen  = 16
	tokenBodyLen  = 1 + 1 + 8 + tokenBindLen
	tokenMACLen   = sha256.Size
	tokenLen      = tokenBodyLen + tokenMACLen
	tokenTextLen  = (tokenLen*8 + 5) / 6 // base64url without padding
	tokenSecretID = "page-token"
)

// errBadToken is why a token does not open; callers turn it into a
// VALIDATION_FAILED naming their field.
var errBadToken = errors.New("not a token this server issued for this request")

// tokenCodec seals and opens tokens with one key.
type tokenCodec struct{ key []byte }

// binding is what a token is bound to, as the fixed-size prefix of its SHA-256.
func binding(parts ...string) [tokenBindLen]byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, p := range parts {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write([]byte(p))
	}
	var out [tokenBindLen]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (c tokenCodec) mac(body []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(body)
	return m.Sum(nil)
}

// seal returns the token of position pos for kind, bound to bind.
func (c tokenCodec) seal(kind tokenKind, pos int64, bind [tokenBindLen]byte) string {
	b := make([]byte, tokenBodyLen, tokenLen)
	b[0], b[1] = tokenVersion, byte(kind)
	binary.BigEndian.PutUint64(b[2:10], uint64(pos))
	copy(b[10:], bind[:])
	b = append(b, c.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// open returns the position of token s, which must be of kind and bound to bind.
func (c tokenCodec) open(kind tokenKind, s string, bind [tokenBindLen]byte) (int64, error) {
	if len(s) != tokenTextLen {
		return 0, errBadToken
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != tokenLen {
		return 0, errBadToken
	}
	body, sum := b[:tokenBodyLen], b[tokenBodyLen:]
	if !hmac.Equal(sum, c.mac(body)) {
		return 0, errBadToken
	}
	if body[0] != tokenVersion || tokenKind(body[1]) != kind || !hmac.Equal(body[10:], bind[:]) {
		return 0, errBadToken
	}
	pos := int64(binary.BigEndian.Uint64(body[2:10]))
	if pos < 0 {
		return 0, errBadToken
	}
	return pos, nil
}
