package service

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestToken_RoundTripAndRefusals(t *testing.T) {
	c := tokenCodec{key: bytes.Repeat([]byte{7}, 32)}
	bind := binding("email", "a@example.com")
	tok := c.seal(tokenSearchCustomers, 12345, bind)
	if pos, err := c.open(tokenSearchCustomers, tok, bind); err != nil || pos != 12345 {
		t.Fatalf("open(seal(12345)) = %d, %v", pos, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	other := tokenCodec{key: bytes.Repeat([]byte{8}, 32)}
	bad := map[string]string{
		"empty":            "",
		"garbage":          "not a token at all!",
		"truncated":        tok[:len(tok)-1],
		"extended":         tok + "A",
		"padded":           tok + "==",
		"standard base64":  base64.RawStdEncoding.EncodeToString(raw) + "+/",
		"position altered": flip(9),
		"version altered":  flip(0),
		"binding altered":  flip(12),
		"mac altered":      flip(len(raw) - 1),
		"other database":   other.seal(tokenSearchCustomers, 12345, bind),
		"other kind":       c.seal(tokenFeed, 12345, bind),
		"other filter":     c.seal(tokenSearchCustomers, 12345, binding("email", "b@example.com")),
		"negative":         c.seal(tokenSearchCustomers, -1, bind),
	}
	for name, s := range bad {
		if pos, err := c.open(tokenSearchCustomers, s, bind); err == nil {
			t.Errorf("%s: opened as position %d, want refused", name, pos)
		}
	}
	// Binding parts are length-prefixed: moving a boundary changes the binding.
	if binding("ab", "c") == binding("a", "bc") {
		t.Error("binding(ab, c) == binding(a, bc)")
	}
}
