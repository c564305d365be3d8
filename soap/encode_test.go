package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// stamp is like gowsdl's XSDDateTime: an opaque struct whose value-receiver
// MarshalXML writes nothing for the zero value.
type stamp struct{ t time.Time }

func (s stamp) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if s.t.IsZero() {
		return nil
	}
	return e.EncodeElement(s.t.Format(time.RFC3339Nano), start)
}

// upper marshals through a pointer receiver, with its own element content.
type upper struct{ s string }

func (u *upper) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "case"}, Value: "upper"})
	return e.EncodeElement(strings.ToUpper(u.s), start)
}

// level is a TextMarshaler through a pointer receiver.
type level int

func (l *level) MarshalText() ([]byte, error) {
	if *l < 0 {
		return nil, errors.New("negative level")
	}
	return []byte(strings.Repeat("*", int(*l))), nil
}

type color string

type wideResponse struct {
	XMLName  xml.Name  `xml:"urn:example:wide WideResponse"`
	S        string    `xml:"s"`
	Named    color     `xml:"named,omitempty"`
	NamedPtr *color    `xml:"namedPtr,omitempty"`
	I8       int8      `xml:"i8"`
	I64      int64     `xml:"i64,omitempty"`
	U        uint      `xml:"u"`
	U8       uint8     `xml:"u8,omitempty"`
	Uptr     uintptr   `xml:"uptr,omitempty"`
	F32      float32   `xml:"f32"`
	F64      float64   `xml:"f64,omitempty"`
	B        bool      `xml:"b"`
	Bytes    []byte    `xml:"bytes,omitempty"`
	When     time.Time `xml:"when"`
	Stamp    stamp     `xml:"stamp,omitempty"`
	StampPtr *stamp    `xml:"stampPtr,omitempty"`
	Upper    upper     `xml:"upper"`
	Level    level     `xml:"level,omitempty"`
	Other    string    `xml:"urn:example:other other,omitempty"`
	NoTag    string
	Tags     []string  `xml:"tag,omitempty"`
	Kept     []string  `xml:"kept"`
	Nested   [][]int   `xml:"n"`
	Ptrs     []*wideIn `xml:"ptr"`
	In       *wideIn   `xml:",omitempty"`
	Named2   *named    `xml:"named2,omitempty"`
	Anon     *named    `xml:"anon"`
	Rec      *rec      `xml:"rec"`
	hidden   string
	Skipped  string `xml:"-"`
}

type wideIn struct {
	XMLName xml.Name `xml:"urn:example:in in"`
	V       string   `xml:"v"`
}

// named takes its element name from its XMLName value, if any.
type named struct {
	XMLName xml.Name
	V       int `xml:"v"`
}

type rec struct {
	Name string `xml:"name"`
	Kids []*rec `xml:"kid"`
}

func fullWide() *wideResponse {
	c := color("blue")
	return &wideResponse{
		S: "a<b>&\"c'\t\n\r\x00\x1f\x7f\xff\uFFFD\uFFFE\U0001F600 ]]>", Named: "red", NamedPtr: &c,
		I8: math.MinInt8, I64: math.MaxInt64, U: math.MaxUint32, U8: 255, Uptr: 7,
		F32: float32(math.Inf(-1)), F64: 1e21, B: true, Bytes: []byte("x&\xfe"),
		When: time.Date(2024, 2, 29, 12, 30, 0, 5, time.UTC), Stamp: stamp{time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))},
		StampPtr: &stamp{}, Upper: upper{"shout"}, Level: 3, Other: "o", NoTag: "n",
		Tags: []string{"a", "", "c"}, Kept: []string{"", "k"}, Nested: [][]int{{1, 2}, {}, {3}},
		Ptrs: []*wideIn{{V: "p1"}, nil, {V: "p2"}}, In: &wideIn{V: "in"},
		Named2: &named{XMLName: xml.Name{Space: "urn:n", Local: "Renamed"}, V: 1}, Anon: &named{V: 2},
		Rec:    &rec{Name: "root", Kids: []*rec{{Name: "k1"}, {Name: "k2", Kids: []*rec{{Name: "k3"}}}}},
		hidden: "never", Skipped: "never",
	}
}

// undeclared has an XMLName-less struct inside a namespaced parent: the
// dynamic-name struct then undeclares the default namespace.
type undeclared struct {
	XMLName xml.Name `xml:"urn:u Outer"`
	Plain   *named   `xml:"plain"`
	Spaced  *named   `xml:"spaced"`
}

// Shapes the plan leaves to encoding/xml.
type (
	withAttr struct {
		XMLName xml.Name `xml:"urn:a A"`
		ID      string   `xml:"id,attr"`
		V       string   `xml:"v"`
	}
	withCharData struct {
		XMLName xml.Name `xml:"C"`
		Text    string   `xml:",chardata"`
	}
	withEmbedded struct {
		XMLName xml.Name `xml:"E"`
		rec
		Extra string `xml:"extra"`
	}
	withInterface struct {
		XMLName xml.Name `xml:"I"`
		Any     any      `xml:"any"`
	}
	withPath struct {
		XMLName xml.Name `xml:"P"`
		V       string   `xml:"a>b"`
	}
	withMap struct {
		XMLName xml.Name          `xml:"M"`
		M       map[string]string `xml:"m"`
	}
	withArray struct {
		XMLName xml.Name `xml:"Arr"`
		A       [2]int   `xml:"a"`
		H       [4]byte  `xml:"h"`
	}
	topMarshaler struct{ upper }
)

// checkEncode compares encodeXML with encoding/xml on v: same bytes, or both
// failing.
func checkEncode(tb testing.TB, v any) {
	tb.Helper()
	var want bytes.Buffer
	wantErr := xml.NewEncoder(&want).Encode(v)
	for _, leaves := range []map[reflect.Type]LeafEncoder{nil, stampLeaves} {
		var got bytes.Buffer
		err := encodeXML(&got, v, leaves)
		if (err != nil) != (wantErr != nil) {
			tb.Fatalf("%T: error %v, encoding/xml's %v", v, err, wantErr)
		}
		if err == nil && !bytes.Equal(got.Bytes(), want.Bytes()) {
			tb.Fatalf("%T (leaf encoders %v):\n got %s\nwant %s", v, leaves != nil, got.Bytes(), want.Bytes())
		}
	}
}

// stampLeaves writes stamp as its MarshalXML does, except in the year 2000,
// which it leaves to MarshalXML (the fallback).
var stampLeaves = map[reflect.Type]LeafEncoder{
	reflect.TypeFor[stamp](): func(dst []byte, v reflect.Value) ([]byte, bool, bool) {
		t := v.Addr().Interface().(*stamp).t
		switch {
		case t.IsZero():
			return dst, true, true
		case t.Year() == 2000:
			return dst, false, false
		}
		return t.AppendFormat(dst, time.RFC3339Nano), false, true
	},
}

// TestEncodeXML_LeafEncoders: a leaf encoder replaces the type's MarshalXML,
// including writing nothing, and hands the values it does not cover back to it.
func TestEncodeXML_LeafEncoders(t *testing.T) {
	for _, when := range []time.Time{{}, time.Date(2000, 1, 2, 3, 4, 5, 6, time.UTC),
		time.Date(2026, 12, 2, 16, 0, 0, 0, time.FixedZone("", -90*60))} {
		v := &wideResponse{Stamp: stamp{when}}
		checkEncode(t, v)
		var buf bytes.Buffer
		calls := 0
		counting := map[reflect.Type]LeafEncoder{reflect.TypeFor[stamp](): func(dst []byte, v reflect.Value) ([]byte, bool, bool) {
			calls++
			return stampLeaves[reflect.TypeFor[stamp]()](dst, v)
		}}
		if err := encodeXML(&buf, v, counting); err != nil || calls != 1 {
			t.Errorf("%v: leaf encoder called %d times (error %v), want once", when, calls, err)
		}
	}
}

func TestEncodeXML_MatchesEncodingXML(t *testing.T) {
	kind := toyKind("RED")
	values := []any{
		fullWide(),
		&wideResponse{},
		&wideResponse{Level: -1}, // MarshalText fails
		&echoResponse{Version: "1.1", Text: " x ", Kind: &kind, Inner: &inner{Items: []*item{{Key: "k"}, nil}}, Tags: []string{"", "t"}},
		&echoResponse{},
		&toyDetail{Code: "C", Message: "m & m"},
		&failResponse{},
		&undeclared{Plain: &named{V: 1}, Spaced: &named{XMLName: xml.Name{Space: "urn:s", Local: "S"}}},
		(*echoResponse)(nil),
		&withAttr{ID: "1", V: "v"},
		&withCharData{Text: "t"},
		&withEmbedded{rec: rec{Name: "r"}, Extra: "e"},
		&withInterface{Any: 3},
		&withPath{V: "v"},
		&withMap{},
		&withMap{M: map[string]string{"a": "b"}},
		&withArray{A: [2]int{1, 2}, H: [4]byte{'a', '<'}},
		&topMarshaler{upper{"u"}},
		toyDetail{Code: "value, not pointer"},
		"a string",
	}
	for _, v := range values {
		checkEncode(t, v)
	}
}

func TestEncodeXML_Planned(t *testing.T) {
	for _, v := range []any{&wideResponse{}, &echoResponse{}, &toyDetail{}, &undeclared{}, &rec{}} {
		if planFor(reflect.TypeOf(v)) == nil {
			t.Errorf("%T goes through encoding/xml, want a plan", v)
		}
	}
	for _, v := range []any{&withAttr{}, &withCharData{}, &withEmbedded{}, &withInterface{}, &withPath{},
		&withMap{}, &withArray{}, &topMarshaler{}, toyDetail{}} {
		if planFor(reflect.TypeOf(v)) != nil {
			t.Errorf("%T has a plan, want encoding/xml", v)
		}
	}
}

func TestEncodeXML_Allocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector")
	}
	kind := toyKind("RED")
	resp := &echoResponse{Version: "1.1", Text: "hello & <world>", Count: 42, Small: -7, Flag: true, Ratio: 0.25,
		Kind: &kind, Day: "2024-02-29", Inner: &inner{Name: "Inner", Level: 3, Items: []*item{{Key: "a", Value: 1}}},
		Tags: []string{"x", "y"}}
	var buf bytes.Buffer
	allocs := testing.AllocsPerRun(100, func() {
		buf.Reset()
		if err := encodeXML(&buf, resp, stampLeaves); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per response, want 0", allocs)
	}
	checkEncode(t, resp)
}

// FuzzEncodeXML compares encodeXML with encoding/xml on fuzzed field values,
// escaping above all.
func FuzzEncodeXML(f *testing.F) {
	f.Add("a<b>&\"'\t\n\r", int64(-1), uint64(1), 0.5, true, []byte("\xff\x00"))
	f.Add("\uFFFD\uFFFE\x7f", int64(math.MinInt64), uint64(math.MaxUint64), math.NaN(), false, []byte(nil))
	f.Fuzz(func(t *testing.T, s string, i int64, u uint64, fl float64, b bool, raw []byte) {
		c := color(s)
		v := &wideResponse{S: s, Named: c, NamedPtr: &c, I8: int8(i), I64: i, U: uint(u), U8: uint8(u), F32: float32(fl),
			F64: fl, B: b, Bytes: raw, Other: s, Tags: []string{s, ""}, In: &wideIn{V: s},
			Named2: &named{XMLName: xml.Name{Space: s, Local: "N"}}, Upper: upper{s}}
		checkEncode(t, v)
	})
}

// BenchmarkEncodeXML_Leaves is a response with three dates written by their MarshalXML (through an
// encoding/xml Encoder) and by a LeafEncoder.
func BenchmarkEncodeXML_Leaves(b *testing.B) {
	type dated struct {
		XMLName xml.Name `xml:"urn:example:wide Dated"`
		Name    string   `xml:"name"`
		Created stamp    `xml:"created,omitempty"`
		Updated *stamp   `xml:"updated,omitempty"`
		Birth   stamp    `xml:"birth,omitempty"`
	}
	at := time.Date(2026, 12, 2, 16, 4, 5, 123456789, time.UTC)
	v := &dated{Name: "n", Created: stamp{at}, Updated: &stamp{at}, Birth: stamp{at}}
	for _, c := range []struct {
		name   string
		leaves map[reflect.Type]LeafEncoder
	}{{"MarshalXML", nil}, {"LeafEncoder", stampLeaves}} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := encodeXML(&buf, v, c.leaves); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
