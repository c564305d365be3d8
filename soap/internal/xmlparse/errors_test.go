package xmlparse

import (
	"errors"
	"strings"
	"testing"
)

// TestErrorKinds checks the Kind of one refusal of each sort, and that a
// syntax error carries its position apart from its message.
func TestErrorKinds(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		line int
	}{
		{"<a>\n<b></a>", Malformed, 2},
		{`<a><b>`, Malformed, 1},
		{`<a/><b/>`, Malformed, 0},
		{`<p:a/>`, Strict, 1},
		{`<a x="1" x="2"/>`, Strict, 1},
		{"<a>\x01</a>", Strict, 1},
		{`<a/>x`, Strict, 0},
		{`<!DOCTYPE a><a/>`, Forbidden, 0},
		{`<a><?pi x?></a>`, Forbidden, 0},
		{`<?xml version="1.1"?><a/>`, Forbidden, 0},
		{strings.Repeat("<a>", 4) + strings.Repeat("</a>", 4), LimitExceeded, 0},
		{`<a>` + strings.Repeat("<b/>", 10) + `</a>`, LimitExceeded, 0},
		{"<a" + manyAttrs(maxAttributes+1) + "/>", LimitExceeded, 0},
		{"<a" + manyDecls(0, maxNamespaces+1) + "/>", LimitExceeded, 0},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in), 3, 10)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%.40q: %v (%T), want an *Error", tt.in, err, err)
			continue
		}
		if e.Kind != tt.kind || e.Line != tt.line || strings.Contains(e.Msg, "(line") {
			t.Errorf("%.40q: kind %d line %d msg %q, want kind %d line %d", tt.in, e.Kind, e.Line, e.Msg, tt.kind, tt.line)
		}
	}
}
