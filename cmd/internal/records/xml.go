package records

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxValue is the longest text of one XML field read, in bytes.
const MaxValue = 1 << 20

type xmlReader struct {
	e       *Entity
	d       *xml.Decoder
	started bool
}

func newXMLReader(e *Entity, r io.Reader) *xmlReader {
	d := xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	d.Strict = true
	return &xmlReader{e: e, d: d}
}

func (x *xmlReader) line() int { l, _ := x.d.InputPos(); return l }

// token is the next token of the file, refusing DTDs (entity expansion).
func (x *xmlReader) token() (xml.Token, error) {
	t, err := x.d.Token()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("line %d: XML: %s", se.Line, se.Msg)
		}
		return nil, fmt.Errorf("line %d: XML: %w", x.line(), err)
	}
	if _, ok := t.(xml.Directive); ok {
		return nil, fmt.Errorf("line %d: XML: a DOCTYPE is not allowed", x.line())
	}
	return t, nil
}

func (x *xmlReader) Next() (Row, error) {
	for {
		t, err := x.token()
		if err == io.EOF {
			if !x.started {
				return Row{}, fmt.Errorf("line %d: XML: no <%s> root element", x.line(), x.e.Name)
			}
			return Row{}, io.EOF
		}
		if err != nil {
			return Row{}, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if !x.started {
				if t.Name.Space != Namespace || t.Name.Local != x.e.Name {
					return Row{}, fmt.Errorf("line %d: XML: root element <%s> in %q: want <%s> in %q",
						x.line(), t.Name.Local, t.Name.Space, x.e.Name, Namespace)
				}
				x.started = true
				continue
			}
			if t.Name.Space != Namespace || t.Name.Local != x.e.Element {
				return Row{}, fmt.Errorf("line %d: XML: element <%s> in %q: want <%s> in %q",
					x.line(), t.Name.Local, t.Name.Space, x.e.Element, Namespace)
			}
			return x.record()
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" && x.started {
				return Row{}, fmt.Errorf("line %d: XML: text between records", x.line())
			}
		}
	}
}

// record reads the fields of one record element, up to its end tag.
func (x *xmlReader) record() (Row, error) {
	row := Row{Line: x.line(), Values: make([]string, len(x.e.Fields))}
	var path []string
	var text strings.Builder
	var rowErr *RowError
	for {
		t, err := x.token()
		if err == io.EOF {
			return Row{}, fmt.Errorf("line %d: XML: file ends inside <%s>", x.line(), x.e.Element)
		}
		if err != nil {
			return Row{}, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			text.Reset()
			if t.Name.Space != Namespace && rowErr == nil {
				rowErr = &RowError{Line: x.line(), Field: strings.Join(path, "."), Message: "element not in " + Namespace}
			}
		case xml.CharData:
			if text.Len()+len(t) > MaxValue {
				return Row{}, fmt.Errorf("line %d: XML: a value longer than %d bytes", x.line(), MaxValue)
			}
			text.Write(t)
		case xml.EndElement:
			if len(path) == 0 {
				if rowErr != nil {
					return Row{}, rowErr
				}
				return row, nil
			}
			name := strings.Join(path, ".")
			if i := x.e.Index(name); i >= 0 {
				row.Values[i] = text.String()
			} else if !x.isParent(name) && rowErr == nil {
				rowErr = &RowError{Line: x.line(), Field: name, Message: "unknown field"}
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
}

func (x *xmlReader) isParent(name string) bool {
	for _, f := range x.e.Fields {
		if strings.HasPrefix(f.Name, name+".") {
			return true
		}
	}
	return false
}

type xmlWriter struct {
	e   *Entity
	buf *bufio.Writer
}

func newXMLWriter(e *Entity, w io.Writer) (*xmlWriter, error) {
	x := &xmlWriter{e: e, buf: bufio.NewWriterSize(w, 64<<10)}
	_, err := fmt.Fprintf(x.buf, "%s<%s xmlns=%q>\n", xml.Header, e.Name, Namespace)
	return x, err
}

func (x *xmlWriter) Write(values []string) error { return x.WriteLines(values, nil) }

// WriteLines writes the record with one <Lines.Name> element per line, placed
// before the field Lines.At.
func (x *xmlWriter) WriteLines(values []string, lines [][]string) error {
	b := x.buf
	b.WriteString("  <" + x.e.Element + ">")
	l := x.e.Lines
	if l == nil {
		if err := writeElements(b, x.e.Fields, values); err != nil {
			return err
		}
	} else {
		if err := writeElements(b, x.e.Fields[:l.At], values[:l.At]); err != nil {
			return err
		}
		for _, line := range lines {
			b.WriteString("<" + l.Name + ">")
			if err := writeElements(b, l.Fields, line); err != nil {
				return err
			}
			b.WriteString("</" + l.Name + ">")
		}
		if err := writeElements(b, x.e.Fields[l.At:], values[l.At:]); err != nil {
			return err
		}
	}
	_, err := b.WriteString("</" + x.e.Element + ">\n")
	return err
}

// writeElements writes the non-empty values as elements, nesting dotted names;
// a nested element's fields are contiguous in the field table.
func writeElements(b *bufio.Writer, fields []Field, values []string) error {
	var open []string
	for i, f := range fields {
		if values[i] == "" {
			continue
		}
		parts := strings.Split(f.Name, ".")
		parents := parts[:len(parts)-1]
		n := 0
		for n < len(open) && n < len(parents) && open[n] == parents[n] {
			n++
		}
		for len(open) > n {
			b.WriteString("</" + open[len(open)-1] + ">")
			open = open[:len(open)-1]
		}
		for _, p := range parents[n:] {
			b.WriteString("<" + p + ">")
			open = append(open, p)
		}
		leaf := parts[len(parts)-1]
		b.WriteString("<" + leaf + ">")
		if err := xml.EscapeText(b, []byte(values[i])); err != nil {
			return err
		}
		b.WriteString("</" + leaf + ">")
	}
	for len(open) > 0 {
		b.WriteString("</" + open[len(open)-1] + ">")
		open = open[:len(open)-1]
	}
	return nil
}

func (x *xmlWriter) Close() error {
	x.buf.WriteString("</" + x.e.Name + ">\n")
	return x.buf.Flush()
}
