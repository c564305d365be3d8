package soap

import (
	"math"
	"reflect"
	"testing"

	"github.com/beevik/etree"
)

// decodeEcho decodes <Echo xmlns="urn:example:toy">inner</Echo> with the plan.
func decodeEcho(tb testing.TB, inner string) (*echo, *Error) {
	tb.Helper()
	plan, err := newCompiler(map[reflect.Type]ScalarDecoder{reflect.TypeFor[toyDate](): decodeToyDate}).compile(reflect.TypeFor[echo]())
	if err != nil {
		tb.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<Echo xmlns="urn:example:toy" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + inner + `</Echo>`); err != nil {
		tb.Fatal(err)
	}
	var e echo
	return &e, plan.decode(doc.Root(), reflect.ValueOf(&e).Elem(), toyNS, "")
}

func TestStructPlan_DecodeLeaves(t *testing.T) {
	tests := []struct {
		name, in string
		check    func(e *echo) bool
	}{
		{"IntCollapsed", "<count>\n\t 42 \r\n</count>", func(e *echo) bool { return e.Count == 42 }},
		{"IntPlus", "<count>+7</count>", func(e *echo) bool { return e.Count == 7 }},
		{"IntLeadingZeros", "<count>-007</count>", func(e *echo) bool { return e.Count == -7 }},
		{"IntMin", "<count>-9223372036854775808</count>", func(e *echo) bool { return e.Count == math.MinInt64 }},
		{"Int32Max", "<small>2147483647</small>", func(e *echo) bool { return e.Small == math.MaxInt32 }},
		{"StringKept", "<text>\n  a  b \n</text>", func(e *echo) bool { return e.Text == "\n  a  b \n" }},
		{"StringCDATA", "<text><![CDATA[<b>&</b>]]></text>", func(e *echo) bool { return e.Text == "<b>&</b>" }},
		{"StringSplitByComment", "<text>a<!-- c -->b</text>", func(e *echo) bool { return e.Text == "ab" }},
		{"StringEmpty", "<text/>", func(e *echo) bool { return e.Text == "" }},
		{"BoolTrue", "<flag>true</flag>", func(e *echo) bool { return e.Flag }},
		{"BoolZero", "<flag> 0 </flag>", func(e *echo) bool { return !e.Flag }},
		{"FloatExp", "<ratio>-1.5e3</ratio>", func(e *echo) bool { return e.Ratio == -1500 }},
		{"FloatINF", "<ratio>INF</ratio>", func(e *echo) bool { return math.IsInf(e.Ratio, 1) }},
		{"FloatMinusINF", "<ratio>-INF</ratio>", func(e *echo) bool { return math.IsInf(e.Ratio, -1) }},
		{"FloatNaN", "<ratio>NaN</ratio>", func(e *echo) bool { return math.IsNaN(e.Ratio) }},
		{"NamedStringPointer", "<kind>BLUE</kind>", func(e *echo) bool { return e.Kind != nil && *e.Kind == "BLUE" }},
		{"ScalarTrimmed", "<day> 2024-01-31\n</day>", func(e *echo) bool { return e.Day.t.Day() == 31 }},
		{"Repeated", "<tag>a</tag><text>t</text><tag>b</tag>", func(e *echo) bool { return reflect.DeepEqual(e.Tags, []string{"a", "b"}) }},
		{"NilPointer", `<inner xsi:nil="true"/>`, func(e *echo) bool { return e.Inner == nil }},
		{"NilLeaf", `<count xsi:nil="true"> </count>`, func(e *echo) bool { return e.Count == 0 }},
		{"NotNil", `<count xsi:nil="false">3</count>`, func(e *echo) bool { return e.Count == 3 }},
		{"AttributesIgnored", `<count foo="bar" xsi:type="xs:long">3</count>`, func(e *echo) bool { return e.Count == 3 }},
		{"PrefixedChild", `<t:inner xmlns:t="urn:example:toy"><t:level>65535</t:level></t:inner>`,
			func(e *echo) bool { return e.Inner != nil && e.Inner.Level == 65535 }},
		{"EmptyStruct", "<inner/>", func(e *echo) bool { return e.Inner != nil && e.Inner.Name == "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := decodeEcho(t, tt.in)
			if err != nil {
				t.Fatalf("decode %s: %v", tt.in, err)
			}
			if !tt.check(e) {
				t.Errorf("decode %s gave %+v", tt.in, e)
			}
		})
	}
}

func TestStructPlan_DecodeErrors(t *testing.T) {
	tests := []struct{ name, in, field, message string }{
		{"Typo", "<inner><nmae>x</nmae></inner>", "inner/nmae", `unexpected element "inner/nmae"`},
		{"WrongNamespace", `<o:text xmlns:o="urn:o">x</o:text>`, "text", `unexpected element "text" in namespace "urn:o" (want "urn:example:toy")`},
		{"Duplicate", "<inner><name>a</name><name>b</name></inner>", "inner/name", `duplicate element "inner/name"`},
		{"DuplicateStruct", "<inner/><inner/>", "inner", `duplicate element "inner"`},
		{"NotInt", "<count>abc</count>", "count", `count: "abc" is not a valid integer`},
		{"Dash", "<count>-</count>", "count", `count: "-" is not a valid integer`},
		{"IntSpaceInside", "<count>4 2</count>", "count", `count: "4 2" is not a valid integer`},
		{"IntDecimal", "<count>4.0</count>", "count", `count: "4.0" is not a valid integer`},
		{"IntUnderscore", "<count>1_000</count>", "count", `count: "1_000" is not a valid integer`},
		{"Int64Huge", "<count>99999999999999999999</count>", "count", `count: "99999999999999999999" is out of range for a 64-bit integer`},
		{"Uint16Huge", "<inner><level>65536</level></inner>", "inner/level", `inner/level: "65536" is out of range for a 16-bit unsigned integer`},
		{"BoolWord", "<flag>TRUE</flag>", "flag", `flag: "TRUE" is not a valid boolean (true, false, 1 or 0)`},
		{"FloatInfinity", "<ratio>Infinity</ratio>", "ratio", `ratio: "Infinity" is not a valid number`},
		{"FloatHuge", "<ratio>1e400</ratio>", "ratio", `ratio: "1e400" is out of range for a 64-bit number`},
		{"Date", "<day>31.01.2024</day>", "day", `day: "31.01.2024" is not a valid xs:date (YYYY-MM-DD)`},
		{"NilWithContent", `<count xsi:nil="true">3</count>`, "count", `count: an element with xsi:nil="true" must be empty`},
		{"ElementInLeaf", "<inner><name>a<b/></name></inner>", "inner/name/b", `unexpected element "inner/name/b"`},
		{"TextInStruct", "<inner>x<name>a</name></inner>", "inner", `unexpected text in "inner"`},
		{"TextInBodyElement", "stray", "", `unexpected text in "Echo"`},
		{"DeepItem", "<inner><item><key>k</key><oops/></item></inner>", "inner/item/oops", `unexpected element "inner/item/oops"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeEcho(t, tt.in)
			if err == nil {
				t.Fatalf("decode %s: no error", tt.in)
			}
			if err.Code != CodeValidationFailed || err.Field != tt.field || err.Message != tt.message {
				t.Errorf("decode %s:\n got %s %q %q\nwant %s %q %q", tt.in, err.Code, err.Field, err.Message,
					CodeValidationFailed, tt.field, tt.message)
			}
		})
	}
}

// wide has more than 64 fields, so duplicates are tracked without the bit set.
type wide struct {
	F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13, F14, F15, F16, F17, F18, F19, F20, F21, F22, F23, F24,
	F25, F26, F27, F28, F29, F30, F31, F32, F33, F34, F35, F36, F37, F38, F39, F40, F41, F42, F43, F44, F45, F46, F47,
	F48, F49, F50, F51, F52, F53, F54, F55, F56, F57, F58, F59, F60, F61, F62, F63, F64, F65, F66 string
}

func TestStructPlan_WideStruct(t *testing.T) {
	plan, err := newCompiler(nil).compile(reflect.TypeFor[wide]())
	if err != nil {
		t.Fatal(err)
	}
	for in, wantErr := range map[string]bool{
		"<F66>a</F66><F0>b</F0>":   false,
		"<F66>a</F66><F66>b</F66>": true,
		"<F1>a</F1><F1>b</F1>":     true,
	} {
		doc := etree.NewDocument()
		if err := doc.ReadFromString(`<W xmlns="urn:w">` + in + `</W>`); err != nil {
			t.Fatal(err)
		}
		var w wide
		derr := plan.decode(doc.Root(), reflect.ValueOf(&w).Elem(), "urn:w", "")
		if (derr != nil) != wantErr {
			t.Errorf("%s: err %v, want error %v", in, derr, wantErr)
		}
		if !wantErr && (w.F66 != "a" || w.F0 != "b") {
			t.Errorf("%s: decoded %q %q", in, w.F66, w.F0)
		}
	}
}
