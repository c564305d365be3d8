package soap

import (
	"bytes"
	"encoding"
	"encoding/xml"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// encodeXML writes v as encoding/xml's Encoder.Encode would, byte for byte. A
// pointer to a struct whose fields are all of the shapes gowsdl generates
// (elements with optional omitempty and namespace, XMLName, pointers, slices,
// strings, numbers, booleans, []byte, encoding.TextMarshaler and xml.Marshaler
// leaves) goes through a plan compiled once per type and cached; anything else
// (attributes, chardata, innerxml, a>b paths, embedded structs, interfaces)
// goes through encoding/xml itself. leaves writes the xml.Marshaler leaves of
// the types it holds without encoding/xml (see LeafEncoder); nil: none.
func encodeXML(buf *bytes.Buffer, v any, leaves map[reflect.Type]LeafEncoder) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil
	}
	te := planFor(rv.Type())
	if te == nil {
		return xml.NewEncoder(buf).Encode(v)
	}
	if rv.IsNil() {
		return nil // what Encode writes for a nil pointer
	}
	s := encState{buf: buf, leaves: leaves}
	return s.structValue(rv.Elem(), te.elem, nil, "")
}

var plans sync.Map // reflect.Type -> *typeEnc, or nil: encoding/xml

// planFor returns the plan of t, a pointer to a struct, compiling it on first
// use; nil when t must go through encoding/xml.
func planFor(t reflect.Type) *typeEnc {
	if te, ok := plans.Load(t); ok {
		return te.(*typeEnc)
	}
	var te *typeEnc
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && t.Elem().Name() != "" {
		c := encCompiler{types: make(map[reflect.Type]*typeEnc)}
		var err error
		if te, err = c.compile(t); err != nil || te.elem.kind != encStruct {
			te = nil // a top-level Marshaler, for one, is encoding/xml's to call
		}
	}
	got, _ := plans.LoadOrStore(t, te)
	return got.(*typeEnc)
}

type encKind uint8

const (
	encPtr encKind = iota
	encSlice
	encStruct
	encString
	encInt
	encUint
	encFloat
	encBool
	encBytes
	encText      // encoding.TextMarshaler
	encMarshaler // xml.Marshaler
)

// typeEnc writes the values of one type.
type typeEnc struct {
	kind encKind
	typ  reflect.Type
	elem *typeEnc // encPtr, encSlice

	// encStruct
	fields    []encField
	name      xml.Name // from the XMLName tag; Local "" when the tag names none
	nameField int      // index of an XMLName field whose tag names no element (its value may), else -1
}

// encField is one element field of a struct.
type encField struct {
	index     int
	name      xml.Name // Space: the namespace in the tag
	omitEmpty bool
	te        *typeEnc
}

var (
	marshalerType     = reflect.TypeFor[xml.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	nameType          = reflect.TypeFor[xml.Name]()
	errNotPlanned     = errors.New("not a planned shape")
)

type encCompiler struct {
	types map[reflect.Type]*typeEnc // shared by every use of a type; ends recursion
}

// compile classifies t the way marshalValue treats a value of it: pointers are
// followed, then Marshaler, TextMarshaler (on T or *T), slices, structs and
// simple kinds, in that order.
func (c *encCompiler) compile(t reflect.Type) (*typeEnc, error) {
	if te, ok := c.types[t]; ok {
		return te, nil
	}
	te := &typeEnc{typ: t, nameField: -1}
	c.types[t] = te
	pt := reflect.PointerTo(t)
	switch {
	case t.Kind() == reflect.Interface:
		return nil, errNotPlanned
	case t.Kind() == reflect.Pointer:
		te.kind = encPtr
		elem, err := c.compile(t.Elem())
		te.elem = elem
		return te, err
	case t.Implements(marshalerType) || pt.Implements(marshalerType):
		te.kind = encMarshaler
	case t.Implements(textMarshalerType) || pt.Implements(textMarshalerType):
		te.kind = encText
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		te.kind = encBytes
	case t.Kind() == reflect.Slice:
		te.kind = encSlice
		elem, err := c.compile(t.Elem())
		te.elem = elem
		return te, err
	case t.Kind() == reflect.Struct && t != nameType:
		te.kind = encStruct
		return te, c.structFields(te)
	case t.Kind() == reflect.String:
		te.kind = encString
	case t.Kind() == reflect.Bool:
		te.kind = encBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		te.kind = encInt
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uintptr:
		te.kind = encUint
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		te.kind = encFloat
	default:
		return nil, errNotPlanned
	}
	return te, nil
}

func (c *encCompiler) structFields(te *typeEnc) error {
	t := te.typ
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("xml")
		switch {
		case tag == "-" || !f.IsExported() && !f.Anonymous:
			continue
		case f.Anonymous:
			return errNotPlanned
		}
		space, name, omitEmpty, ok := parseEncTag(tag)
		if !ok {
			return errNotPlanned
		}
		if f.Name == "XMLName" {
			if f.Type != nameType {
				return errNotPlanned
			}
			te.name = xml.Name{Space: space, Local: name}
			if name == "" {
				te.nameField = i
			}
			continue
		}
		xmlname, err := lookupXMLName(f.Type)
		if err != nil {
			return err
		}
		switch {
		case name == "" && xmlname.Local != "":
			space, name = xmlname.Space, xmlname.Local
		case name == "":
			name = f.Name
		case xmlname.Local != "" && xmlname.Local != name:
			return errNotPlanned // encoding/xml refuses the type
		}
		fte, err := c.compile(f.Type)
		if err != nil {
			return err
		}
		for _, other := range te.fields {
			if other.name == (xml.Name{Space: space, Local: name}) {
				return errNotPlanned // encoding/xml refuses the type
			}
		}
		te.fields = append(te.fields, encField{index: i, name: xml.Name{Space: space, Local: name}, omitEmpty: omitEmpty, te: fte})
	}
	return nil
}

// parseEncTag reads `[namespace ]name[,omitempty]`; ok is false for every
// other mode (attr, chardata, innerxml, comment, any, cdata) and for a>b paths.
func parseEncTag(tag string) (space, name string, omitEmpty, ok bool) {
	if ns, rest, found := strings.Cut(tag, " "); found {
		space, tag = ns, rest
	}
	name, opts, _ := strings.Cut(tag, ",")
	for opt := range strings.SplitSeq(opts, ",") {
		switch opt {
		case "omitempty":
			omitEmpty = true
		case "attr", "cdata", "chardata", "innerxml", "comment", "any":
			return "", "", false, false
		}
	}
	if strings.Contains(name, ">") || space != "" && name == "" {
		return "", "", false, false
	}
	return space, name, omitEmpty, true
}

// lookupXMLName is the element name the XMLName tag of t (or *t...) gives.
func lookupXMLName(t reflect.Type) (xml.Name, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return xml.Name{}, nil
	}
	f, ok := t.FieldByName("XMLName")
	if !ok || len(f.Index) != 1 {
		return xml.Name{}, nil
	}
	space, name, _, ok := parseEncTag(f.Tag.Get("xml"))
	if !ok {
		return xml.Name{}, errNotPlanned
	}
	return xml.Name{Space: space, Local: name}, nil
}

// encState is one encoding into buf.
type encState struct {
	buf    *bytes.Buffer
	leaves map[reflect.Type]LeafEncoder
}

// value writes v, the value of field f (of a struct whose element is in
// namespace parentSpace), as marshalValue does.
func (s *encState) value(v reflect.Value, te *typeEnc, f *encField, parentSpace string) error {
	if f.omitEmpty && isEmptyValue(v) {
		return nil
	}
	for te.kind == encPtr {
		if v.IsNil() {
			return nil
		}
		v, te = v.Elem(), te.elem
	}
	switch te.kind {
	case encSlice:
		for i := range v.Len() {
			if err := s.value(v.Index(i), te.elem, f, parentSpace); err != nil {
				return err
			}
		}
		return nil
	case encStruct:
		return s.structValue(v, te, f, parentSpace)
	case encMarshaler:
		if enc := s.leaves[te.typ]; enc != nil && s.leaf(enc, v, f.name) {
			return nil
		}
		return s.marshaler(v, f.name)
	case encText:
		text, err := v.Addr().Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return err
		}
		s.start(f.name)
		escapeBytes(s.buf, text)
		s.end(f.name)
		return nil
	}
	s.start(f.name)
	b := s.buf.AvailableBuffer()
	switch te.kind {
	case encString:
		escapeString(s.buf, v.String())
	case encInt:
		s.buf.Write(strconv.AppendInt(b, v.Int(), 10))
	case encUint:
		s.buf.Write(strconv.AppendUint(b, v.Uint(), 10))
	case encFloat:
		s.buf.Write(strconv.AppendFloat(b, v.Float(), 'g', -1, te.typ.Bits()))
	case encBool:
		s.buf.Write(strconv.AppendBool(b, v.Bool()))
	case encBytes:
		escapeBytes(s.buf, v.Bytes())
	}
	s.end(f.name)
	return nil
}

// structValue writes the element of struct v: its name from the XMLName tag,
// else the XMLName value, else the field, else the type.
func (s *encState) structValue(v reflect.Value, te *typeEnc, f *encField, parentSpace string) error {
	name := te.name
	if name.Local == "" && te.nameField >= 0 {
		if nv := v.Field(te.nameField); nv.Field(1).Len() > 0 {
			name = xml.Name{Space: nv.Field(0).String(), Local: nv.Field(1).String()}
		}
	}
	if name.Local == "" && f != nil {
		name = f.name
	}
	if name.Local == "" {
		if name.Local, _, _ = strings.Cut(te.typ.Name(), "["); name.Local == "" {
			return &xml.UnsupportedTypeError{Type: te.typ}
		}
	}
	s.buf.WriteByte('<')
	s.buf.WriteString(name.Local)
	if name.Space != "" {
		s.buf.WriteString(` xmlns="`)
		escapeString(s.buf, name.Space)
		s.buf.WriteByte('"')
	} else if te.nameField >= 0 && te.name.Space == "" && parentSpace != "" {
		// An XMLName with an empty tag in no namespace inside a namespaced
		// element: encoding/xml undeclares the default namespace.
		s.buf.WriteString(` xmlns=""`)
	}
	s.buf.WriteByte('>')
	for i := range te.fields {
		fi := &te.fields[i]
		if err := s.value(v.Field(fi.index), fi.te, fi, name.Space); err != nil {
			return err
		}
	}
	s.end(name)
	return nil
}

func (s *encState) start(n xml.Name) {
	s.buf.WriteByte('<')
	s.buf.WriteString(n.Local)
	if n.Space != "" {
		s.buf.WriteString(` xmlns="`)
		escapeString(s.buf, n.Space)
		s.buf.WriteByte('"')
	}
	s.buf.WriteByte('>')
}

func (s *encState) end(n xml.Name) {
	s.buf.WriteString("</")
	s.buf.WriteString(n.Local)
	s.buf.WriteByte('>')
}

// leaf writes the element of v, a value of a type with a LeafEncoder, or
// nothing when the encoder says its MarshalXML writes nothing; false: enc does
// not cover v, and nothing was written.
func (s *encState) leaf(enc LeafEncoder, v reflect.Value, name xml.Name) bool {
	n := s.buf.Len()
	s.start(name)
	text, omit, ok := enc(s.buf.AvailableBuffer(), v)
	if !ok || omit {
		s.buf.Truncate(n)
		return ok
	}
	s.buf.Write(text)
	s.end(name)
	return true
}

// marshaler hands an xml.Marshaler leaf (such as gowsdl's XSDDateTime) to
// encoding/xml, through a pooled Encoder writing into the same buffer.
func (s *encState) marshaler(v reflect.Value, name xml.Name) error {
	m := marshalerPool.Get().(*marshalerEncoder)
	m.w.buf = s.buf
	err := m.enc.EncodeElement(v.Addr().Interface(), xml.StartElement{Name: name})
	m.w.buf = nil
	if err == nil {
		marshalerPool.Put(m) // after an error the Encoder may hold unclosed tags
	}
	return err
}

type marshalerEncoder struct {
	w   bufferWriter
	enc *xml.Encoder
}

type bufferWriter struct{ buf *bytes.Buffer }

func (w *bufferWriter) Write(b []byte) (int, error) { return w.buf.Write(b) }

var marshalerPool = sync.Pool{New: func() any {
	m := new(marshalerEncoder)
	m.enc = xml.NewEncoder(&m.w)
	return m
}}

// isEmptyValue is encoding/xml's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// escapeSafe marks the ASCII bytes that text and attribute values carry as is
// in encoding/xml's escaping.
var escapeSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"'&<>` {
		t[c] = false
	}
	return t
}()

// escapeString writes s escaped exactly as xml.EscapeText does: the five
// markup characters, tab, newline and carriage return as references, and
// U+FFFD for invalid UTF-8 and characters XML does not allow.
func escapeString(buf *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && escapeSafe[c] {
			i++
			continue
		}
		r, width := rune(c), 1
		if c >= utf8.RuneSelf {
			r, width = utf8.DecodeRuneInString(s[i:])
		}
		esc := escapeOf(r, width)
		if esc == "" {
			i += width
			continue
		}
		buf.WriteString(s[last:i])
		buf.WriteString(esc)
		i += width
		last = i
	}
	buf.WriteString(s[last:])
}

func escapeBytes(buf *bytes.Buffer, b []byte) {
	last := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf && escapeSafe[c] {
			i++
			continue
		}
		r, width := rune(c), 1
		if c >= utf8.RuneSelf {
			r, width = utf8.DecodeRune(b[i:])
		}
		esc := escapeOf(r, width)
		if esc == "" {
			i += width
			continue
		}
		buf.Write(b[last:i])
		buf.WriteString(esc)
		i += width
		last = i
	}
	buf.Write(b[last:])
}

// escapeOf is the replacement of r (width bytes long), "" when it stays.
func escapeOf(r rune, width int) string {
	switch r {
	case '"':
		return "&#34;"
	case '\'':
		return "&#39;"
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '\t':
		return "&#x9;"
	case '\n':
		return "&#xA;"
	case '\r':
		return "&#xD;"
	}
	if !xmlparse.IsXMLChar(r) || r == utf8.RuneError && width == 1 {
		return "\uFFFD"
	}
	return ""
}
