package records

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLine is the longest JSON Lines record read, in bytes.
const MaxLine = 1 << 20

type jsonlReader struct {
	e    *Entity
	sc   *bufio.Scanner
	line int
}

func newJSONLReader(e *Entity, r io.Reader) *jsonlReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	return &jsonlReader{e: e, sc: sc}
}

func (j *jsonlReader) Next() (Row, error) {
	for j.sc.Scan() {
		j.line++
		b := bytes.TrimSpace(j.sc.Bytes())
		if j.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			return Row{}, &RowError{Line: j.line, Message: "invalid UTF-8"}
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var obj map[string]any
		if err := d.Decode(&obj); err != nil {
			return Row{}, &RowError{Line: j.line, Message: "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
		}
		if d.More() {
			return Row{}, &RowError{Line: j.line, Message: "invalid JSON: more than one value on the line"}
		}
		vals := make([]string, len(j.e.Fields))
		if err := j.flatten("", obj, vals); err != nil {
			return Row{}, err
		}
		return Row{Line: j.line, Values: vals}, nil
	}
	if err := j.sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return Row{}, fmt.Errorf("line %d: longer than %d bytes", j.line+1, MaxLine)
		}
		return Row{}, err
	}
	return Row{}, io.EOF
}

func (j *jsonlReader) flatten(prefix string, obj map[string]any, vals []string) error {
	for k, v := range obj {
		name := prefix + k
		if sub, ok := v.(map[string]any); ok {
			if err := j.flatten(name+".", sub, vals); err != nil {
				return err
			}
			continue
		}
		i := j.e.Index(name)
		if i < 0 {
			return &RowError{Line: j.line, Field: name, Message: "unknown field"}
		}
		switch v := v.(type) {
		case string:
			vals[i] = v
		case json.Number:
			vals[i] = v.String()
		case bool:
			vals[i] = strconv.FormatBool(v)
		case nil:
		default:
			return &RowError{Line: j.line, Field: name, Message: "want a string"}
		}
	}
	return nil
}

type jsonlWriter struct {
	e   *Entity
	buf *bufio.Writer
	b   []byte
}

func newJSONLWriter(e *Entity, w io.Writer) *jsonlWriter {
	return &jsonlWriter{e: e, buf: bufio.NewWriterSize(w, 64<<10)}
}

func (j *jsonlWriter) Write(values []string) error { return j.WriteLines(values, nil) }

// WriteLines writes the record with its lines as an array under Lines.Name,
// placed before the field Lines.At.
func (j *jsonlWriter) WriteLines(values []string, lines [][]string) error {
	b := append(j.b[:0], '{')
	l := j.e.Lines
	if l == nil {
		b = appendObject(b, j.e.Fields, values)
	} else {
		b = appendObject(b, j.e.Fields[:l.At], values[:l.At])
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendString(b, l.Name)
		b = append(b, ":["...)
		for i, line := range lines {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = appendObject(b, l.Fields, line)
			b = append(b, '}')
		}
		b = append(b, ']')
		n := len(b)
		if b = appendObject(append(b, ','), j.e.Fields[l.At:], values[l.At:]); len(b) == n+1 {
			b = b[:n] // no field after the lines
		}
	}
	b = append(b, "}\n"...)
	j.b = b
	_, err := j.buf.Write(b)
	return err
}

func (j *jsonlWriter) Close() error { return j.buf.Flush() }

// appendObject writes the non-empty values as members, nesting dotted names;
// a nested object's fields are contiguous in the field table.
func appendObject(b []byte, fields []Field, values []string) []byte {
	var open []string // names of the open nested objects
	first := true
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
			b = append(b, '}')
			open = open[:len(open)-1]
		}
		for _, p := range parents[n:] {
			if !first {
				b = append(b, ',')
			}
			b = appendString(b, p)
			b = append(b, ":{"...)
			open = append(open, p)
			first = true
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, parts[len(parts)-1])
		b = append(b, ':')
		if f.Number || f.Bool {
			b = append(b, values[i]...)
		} else {
			b = appendString(b, values[i])
		}
	}
	for range open {
		b = append(b, '}')
	}
	return b
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
