package soap

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// leafOf returns the decoder of leaf type t, nil when t is not a leaf. A
// registered ScalarDecoder wins over everything else.
func (c *compiler) leafOf(t reflect.Type) leafFunc {
	if dec, ok := c.scalars[t]; ok {
		return func(text string, dst reflect.Value) error { return dec(collapse(text), dst) }
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshalerType) &&
		!reflect.PointerTo(t).Implements(unmarshalerType) {
		return textLeaf(t)
	}
	switch t.Kind() {
	case reflect.String:
		return stringLeaf
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intLeaf(t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return uintLeaf(t.Bits())
	case reflect.Bool:
		return boolLeaf
	case reflect.Float32, reflect.Float64:
		return floatLeaf(t.Bits())
	}
	return nil
}

// collapse applies XSD whiteSpace="collapse" at the ends, which is all that
// matters for the lexical forms of numbers, booleans and dates.
func collapse(s string) string { return strings.Trim(s, " \t\r\n") }

// stringLeaf keeps the text exactly as sent.
func stringLeaf(text string, dst reflect.Value) error {
	dst.SetString(text)
	return nil
}

func intLeaf(bits int) leafFunc {
	return func(text string, dst reflect.Value) error {
		s := collapse(text)
		n, err := strconv.ParseInt(s, 10, bits)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("%q is out of range for a %d-bit integer", s, bits)
		}
		if err != nil {
			return fmt.Errorf("%q is not a valid integer", s)
		}
		dst.SetInt(n)
		return nil
	}
}

func uintLeaf(bits int) leafFunc {
	return func(text string, dst reflect.Value) error {
		s := collapse(text)
		n, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, bits)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("%q is out of range for a %d-bit unsigned integer", s, bits)
		}
		if err != nil || strings.HasPrefix(s, "+-") || strings.HasPrefix(s, "++") {
			return fmt.Errorf("%q is not a valid non-negative integer", s)
		}
		dst.SetUint(n)
		return nil
	}
}

func boolLeaf(text string, dst reflect.Value) error {
	switch s := collapse(text); s {
	case "true", "1":
		dst.SetBool(true)
	case "false", "0":
		dst.SetBool(false)
	default:
		return fmt.Errorf("%q is not a valid boolean (true, false, 1 or 0)", s)
	}
	return nil
}

// floatLeaf accepts the xs:double lexical space: decimal and exponent forms,
// INF, -INF and NaN, but not Go's extras (hex floats, "inf", "Infinity", "_").
func floatLeaf(bits int) leafFunc {
	return func(text string, dst reflect.Value) error {
		s := collapse(text)
		lexical := s
		switch s {
		case "INF", "+INF":
			lexical = "+Inf"
		case "-INF":
			lexical = "-Inf"
		case "NaN":
		default:
			if strings.ContainsFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789+-.eE", r) }) {
				return fmt.Errorf("%q is not a valid number", s)
			}
		}
		f, err := strconv.ParseFloat(lexical, bits)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("%q is out of range for a %d-bit number", s, bits)
		}
		if err != nil {
			return fmt.Errorf("%q is not a valid number", s)
		}
		dst.SetFloat(f)
		return nil
	}
}

func textLeaf(t reflect.Type) leafFunc {
	return func(text string, dst reflect.Value) error {
		s := collapse(text)
		if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return fmt.Errorf("%q is not a valid %s", s, t)
		}
		return nil
	}
}
