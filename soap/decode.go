package soap

import (
	"encoding"
	"encoding/xml"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// xsiNS is the XML Schema instance namespace (xsi:nil, xsi:type).
const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// leafFunc sets dst from the text of a leaf element. Its error text follows the
// field path in a VALIDATION_FAILED message.
type leafFunc func(text string, dst reflect.Value) error

// structPlan decodes the child elements of one element into a struct type. Plans
// are compiled once, when the Handler is built, never per request.
type structPlan struct {
	typ    reflect.Type
	fields []*fieldPlan
	byName map[string]int // local name -> index in fields
}

// fieldPlan decodes one child element (or each of a repeated one) into a field.
type fieldPlan struct {
	local    string
	space    string // from the tag; "" means the namespace of the enclosing element
	index    []int  // path through embedded structs
	repeated bool   // a slice: one value per occurrence
	ptr      bool   // the (slice element) type is a pointer
	elemType reflect.Type
	leaf     leafFunc    // non-nil for text-only elements
	sub      *structPlan // non-nil for struct elements
}

type compiler struct {
	scalars map[reflect.Type]ScalarDecoder
	plans   map[reflect.Type]*structPlan
}

func newCompiler(scalars map[reflect.Type]ScalarDecoder) *compiler {
	return &compiler{scalars: scalars, plans: make(map[reflect.Type]*structPlan)}
}

// compile returns the plan of struct type t (shared by every use of t, which
// also makes recursive types terminate).
func (c *compiler) compile(t reflect.Type) (*structPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("request type %s is not a struct", t)
	}
	if p, ok := c.plans[t]; ok {
		return p, nil
	}
	p := &structPlan{typ: t, byName: make(map[string]int)}
	c.plans[t] = p
	if err := c.addFields(p, t, nil); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *compiler) addFields(p *structPlan, t reflect.Type, index []int) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("xml")
		if f.Name == "XMLName" || tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				if !f.IsExported() {
					return fmt.Errorf("%s: cannot allocate embedded pointer to unexported %s", t, ft.Elem())
				}
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && c.leafOf(ft) == nil {
				if err := c.addFields(p, ft, append(slices.Clone(index), i)); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		fp, err := c.field(t, f, tag)
		if err != nil {
			return err
		}
		fp.index = append(slices.Clone(index), i)
		if _, dup := p.byName[fp.local]; dup {
			return fmt.Errorf("%s: two fields named %q", t, fp.local)
		}
		p.byName[fp.local] = len(p.fields)
		p.fields = append(p.fields, fp)
	}
	return nil
}

func (c *compiler) field(t reflect.Type, f reflect.StructField, tag string) (*fieldPlan, error) {
	name, opts, _ := strings.Cut(tag, ",")
	for opt := range strings.SplitSeq(opts, ",") {
		if opt != "" && opt != "omitempty" {
			return nil, fmt.Errorf("%s.%s: xml option %q is not supported", t, f.Name, opt)
		}
	}
	fp := &fieldPlan{local: name}
	if space, local, ok := strings.Cut(name, " "); ok {
		fp.space, fp.local = space, local
	}
	if fp.local == "" {
		fp.local = f.Name
	}
	if strings.Contains(fp.local, ">") {
		return nil, fmt.Errorf("%s.%s: xml paths (a>b) are not supported", t, f.Name)
	}
	ft := f.Type
	if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 && c.leafOf(ft) == nil {
		fp.repeated, ft = true, ft.Elem()
	}
	if ft.Kind() == reflect.Pointer && c.leafOf(ft) == nil {
		fp.ptr, ft = true, ft.Elem()
	}
	fp.elemType = ft
	if fp.leaf = c.leafOf(ft); fp.leaf != nil {
		return fp, nil
	}
	if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshalerType) && !opaque(ft) {
		sub, err := c.compile(ft)
		fp.sub = sub
		return fp, err
	}
	return nil, fmt.Errorf("%s.%s: type %s is not supported (register a ScalarDecoder for it)", t, f.Name, f.Type)
}

// opaque reports a struct whose fields are all unexported (like a date type):
// only a ScalarDecoder can fill it.
func opaque(t reflect.Type) bool {
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return false
		}
	}
	return t.NumField() > 0
}

// decode fills v (a struct of p's type) from the children of el. ns is the
// namespace every child must be in unless its field's tag names another; path is
// el's path below the body element, for messages ("" for the body element).
func (p *structPlan) decode(el *etree.Element, v reflect.Value, ns, path string) *Error {
	return p.decodeAt(el, v, ns, where{top: el, prefix: path, scope: xmlparse.ScopeAt(el)})
}

// where names elements in messages by their path below the body element. The
// path is made from the tree (el's parents up to top) only when there is a
// message to write, so a request that decodes builds no path at all.
type where struct {
	top    *etree.Element // the element whose path is prefix
	prefix string
	scope  *xmlparse.Scope // the namespace declarations in scope at the element being decoded
}

func (w where) path(el *etree.Element) string {
	n := len(w.prefix)
	for e := el; e != w.top && e != nil; e = e.Parent() {
		n += len(e.Tag) + 1
	}
	b := make([]byte, n)
	i := n
	for e := el; e != w.top && e != nil; e = e.Parent() {
		i -= copy(b[i-len(e.Tag):], e.Tag)
		i--
		b[i] = '/'
	}
	copy(b, w.prefix)
	if w.prefix == "" && n > 0 {
		return string(b[1:])
	}
	return string(b)
}

func (p *structPlan) decodeAt(el *etree.Element, v reflect.Value, ns string, w where) *Error {
	var seenBits uint64
	var seen []bool
	if len(p.fields) > 64 {
		seen = make([]bool, len(p.fields))
	}
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if !isBlank(t.Data) {
				path := w.path(el)
				at := path
				if at == "" {
					at = el.Tag
				}
				return invalid(path, "unexpected text in %q", at)
			}
		case *etree.Element:
			i, ok := p.byName[t.Tag]
			if !ok {
				path := w.path(t)
				return invalid(path, "unexpected element %q", path)
			}
			fp := p.fields[i]
			want := fp.space
			if want == "" {
				want = ns
			}
			mark := w.scope.Push(t)
			if got := w.scope.Elem(t); got != want {
				path := w.path(t)
				return invalid(path, "unexpected element %q in namespace %q (want %q)", path, got, want)
			}
			if !fp.repeated {
				if seen != nil && seen[i] || seen == nil && seenBits&(1<<i) != 0 {
					path := w.path(t)
					return invalid(path, "duplicate element %q", path)
				}
				if seen != nil {
					seen[i] = true
				} else {
					seenBits |= 1 << i
				}
			}
			if err := fp.decode(t, v, want, w); err != nil {
				return err
			}
			w.scope.Pop(mark)
		}
	}
	return nil
}

func (fp *fieldPlan) decode(el *etree.Element, parent reflect.Value, ns string, w where) *Error {
	isNil, err := nilled(el, w)
	if err != nil || isNil {
		return err
	}
	dst := fieldAlloc(parent, fp.index)
	if fp.repeated {
		n := dst.Len()
		dst.Set(reflect.Append(dst, reflect.Zero(dst.Type().Elem())))
		dst = dst.Index(n)
	}
	if fp.ptr {
		nv := reflect.New(fp.elemType)
		dst.Set(nv)
		dst = nv.Elem()
	}
	if fp.sub != nil {
		return fp.sub.decodeAt(el, dst, ns, w)
	}
	text, err := leafText(el, w)
	if err != nil {
		return err
	}
	if perr := fp.leaf(text, dst); perr != nil {
		path := w.path(el)
		return invalid(path, "%s: %v", path, perr)
	}
	return nil
}

// nilled reports whether el carries xsi:nil="true"; such an element leaves its
// field at the zero value and must be empty.
func nilled(el *etree.Element, w where) (bool, *Error) {
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Key != "nil" || a.Space == "" || w.scope.Attr(a) != xsiNS {
			continue
		}
		if v := strings.TrimSpace(a.Value); v != "true" && v != "1" {
			return false, nil
		}
		for _, tok := range el.Child {
			if cd, ok := tok.(*etree.CharData); ok && isBlank(cd.Data) {
				continue
			}
			if _, ok := tok.(*etree.Comment); ok {
				continue
			}
			path := w.path(el)
			return false, invalid(path, "%s: an element with xsi:nil=\"true\" must be empty", path)
		}
		return true, nil
	}
	return false, nil
}

// leafText is the character data of a text-only element.
func leafText(el *etree.Element, w where) (string, *Error) {
	if len(el.Child) == 1 {
		if cd, ok := el.Child[0].(*etree.CharData); ok {
			return cd.Data, nil
		}
	}
	var b strings.Builder
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		case *etree.Element:
			path := w.path(t)
			return "", invalid(path, "unexpected element %q", path)
		}
	}
	return b.String(), nil
}

// fieldAlloc is v.FieldByIndex that allocates nil embedded pointers on the way.
func fieldAlloc(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func invalid(field, format string, args ...any) *Error {
	return errorf(CodeValidationFailed, field, format, args...)
}

var (
	unmarshalerType     = reflect.TypeFor[xml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)
