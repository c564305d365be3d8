package records

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

type csvReader struct {
	e    *Entity
	r    *csv.Reader
	cols []int // column -> field index
}

func newCSVReader(e *Entity, r io.Reader) (*csvReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("line 1: no header row (want column names such as " + e.names() + ")")
	}
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	c := &csvReader{e: e, r: cr, cols: make([]int, len(header))}
	seen := map[int]bool{}
	for i, h := range header {
		f := e.Index(h)
		if f < 0 {
			return nil, fmt.Errorf("line 1: unknown column %q (known: %s)", h, e.names())
		}
		if seen[f] {
			return nil, fmt.Errorf("line 1: column %q appears twice", h)
		}
		seen[f] = true
		c.cols[i] = f
	}
	return c, nil
}

func (c *csvReader) Next() (Row, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return Row{}, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
		return Row{}, &RowError{Line: pe.StartLine,
			Message: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(c.cols))}
	}
	if err != nil {
		return Row{}, fmt.Errorf("csv: %w", err)
	}
	line, _ := c.r.FieldPos(0)
	vals := make([]string, len(c.e.Fields))
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return Row{}, &RowError{Line: line, Field: c.e.Fields[c.cols[i]].Name, Message: "invalid UTF-8"}
		}
		vals[c.cols[i]] = v
	}
	return Row{Line: line, Values: vals}, nil
}

type csvWriter struct {
	w     *csv.Writer
	buf   *bufio.Writer
	lines int // columns of the repeated group
	row   []string
}

func newCSVWriter(e *Entity, w io.Writer) (*csvWriter, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	cw := &csvWriter{w: csv.NewWriter(buf), buf: buf}
	header := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		header[i] = f.Name
	}
	if l := e.Lines; l != nil {
		cw.lines = len(l.Fields)
		for _, f := range l.Fields {
			header = append(header, l.Name+"."+f.Name)
		}
	}
	return cw, cw.w.Write(header)
}

func (c *csvWriter) Write(values []string) error { return c.WriteLines(values, nil) }

// WriteLines writes one row per line, the record's values repeated in each;
// a record without lines is one row with the line columns empty.
func (c *csvWriter) WriteLines(values []string, lines [][]string) error {
	if c.lines == 0 {
		return c.w.Write(values)
	}
	c.row = append(c.row[:0], values...)
	if len(lines) == 0 {
		return c.w.Write(append(c.row, make([]string, c.lines)...))
	}
	for _, l := range lines {
		if err := c.w.Write(append(c.row[:len(values)], l...)); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}
