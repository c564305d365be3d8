// Package records reads and writes the rows of an entity in the file formats of
// crmsoap import and export: CSV (RFC 4180), JSON Lines and XML. A row is the
// entity's field values as strings, in the order of its field table; "" is an
// absent value. Readers and writers stream: they hold one row at a time.
package records

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespace is the XML namespace of the contract's elements.
const Namespace = "urn:crmsoap:v1"

// Field is one column of an entity: its contract name, nested fields dotted
// (address.city).
type Field struct {
	Name string
	// Number marks an integer field, written as a JSON number.
	Number bool
	// Bool marks a true/false field, written as a JSON boolean.
	Bool bool
}

// Entity is the table of fields of one kind of record.
type Entity struct {
	Name    string // plural, as on the command line: customers
	Element string // the contract's element of one record: customer
	Fields  []Field
	// Lines, when set, is a repeated group inside each record (an order's
	// lines), written with WriteLines.
	Lines *Lines
}

// Lines is a repeated group of a record. XML and JSON Lines nest it as the
// contract does: one element per line (<line>...</line>), a JSON array under
// Name, placed before the record's field At. CSV writes one row per line: the
// record's fields repeated, then the line's fields as columns prefixed Name
// and a dot (line.sku).
type Lines struct {
	Name   string
	At     int
	Fields []Field
}

// Index is the position of the field named name, or -1.
func (e *Entity) Index(name string) int {
	for i, f := range e.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func (e *Entity) names() string {
	n := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		n[i] = f.Name
	}
	return strings.Join(n, ", ")
}

// Format is a file format: csv, jsonl or xml.
type Format string

// The file formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
	XML   Format = "xml"
)

// ParseFormat checks a format name given on the command line.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case CSV, JSONL, XML:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want csv, jsonl or xml)", s)
}

// Row is one record read from a file: Line is where it starts (1-based).
type Row struct {
	Line   int
	Values []string
}

// RowError is a row that cannot be read; the reader carries on with the next
// one. Field is the column at fault, if one is.
type RowError struct {
	Line    int
	Field   string
	Message string
}

func (e *RowError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Message)
}

// Reader yields the rows of a file. Next returns io.EOF at the end, a
// *RowError for a bad row (call Next again for the next one), and any other
// error when the file cannot be read further.
type Reader interface {
	Next() (Row, error)
}

// Writer writes rows; Close ends the document and flushes (it does not close
// the underlying writer). WriteLines writes a record with its repeated group
// (Entity.Lines); Write is WriteLines without lines.
type Writer interface {
	Write(values []string) error
	WriteLines(values []string, lines [][]string) error
	Close() error
}

// NewReader reads rows of e in format f from r.
func NewReader(f Format, e *Entity, r io.Reader) (Reader, error) {
	switch f {
	case CSV:
		return newCSVReader(e, r)
	case JSONL:
		return newJSONLReader(e, r), nil
	case XML:
		return newXMLReader(e, r), nil
	}
	return nil, fmt.Errorf("unknown format %q (want csv, jsonl or xml)", f)
}

// NewWriter writes rows of e in format f to w.
func NewWriter(f Format, e *Entity, w io.Writer) (Writer, error) {
	switch f {
	case CSV:
		return newCSVWriter(e, w)
	case JSONL:
		return newJSONLWriter(e, w), nil
	case XML:
		return newXMLWriter(e, w)
	}
	return nil, fmt.Errorf("unknown format %q (want csv, jsonl or xml)", f)
}

// IsRowError reports whether err is a *RowError, and returns it.
func IsRowError(err error) (*RowError, bool) {
	var re *RowError
	ok := errors.As(err, &re)
	return re, ok
}
