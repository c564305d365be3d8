package records

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

var people = &Entity{Name: "people", Element: "person", Fields: []Field{
	{Name: "id", Number: true}, {Name: "name"}, {Name: "address.street"}, {Name: "address.city"}, {Name: "note"},
}}

func readAll(t *testing.T, f Format, in string) ([]Row, []string) {
	t.Helper()
	r, err := NewReader(f, people, strings.NewReader(in))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var rows []Row
	var bad []string
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, bad
		}
		if re, ok := IsRowError(err); ok {
			bad = append(bad, re.Error())
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

// Every format gives back what it was given: quotes, commas, newlines, markup,
// Chinese and emoji, empty and nested fields. (A quoted CRLF in CSV reads back
// as LF, as encoding/csv does: both are one line break.)
func TestWriteRead_RoundTrip(t *testing.T) {
	in := [][]string{
		{"1", "张伟 😀", "1 Line,\n\"Second\"\nthird", "北京", "<&>'\""},
		{"2", "Ann", "", "Zürich", ""},
		{"3", "Bob", "", "", "tab\tand, comma"},
	}
	for _, f := range []Format{CSV, JSONL, XML} {
		var buf bytes.Buffer
		w, err := NewWriter(f, people, &buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range in {
			if err := w.Write(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rows, bad := readAll(t, f, buf.String())
		if len(bad) > 0 || len(rows) != len(in) {
			t.Fatalf("%s: %d rows, bad %q\n%s", f, len(rows), bad, buf.String())
		}
		for i, r := range rows {
			if strings.Join(r.Values, "|") != strings.Join(in[i], "|") {
				t.Errorf("%s row %d: %q, want %q", f, i, r.Values, in[i])
			}
		}
	}
}

func TestCSV_BOMAndLineNumbers(t *testing.T) {
	rows, bad := readAll(t, CSV, "\xef\xbb\xbfname,id,note\r\nAnn,1,\"two\r\nlines\"\r\nBob,2\r\nCy,3,x\r\n")
	if len(rows) != 2 || rows[0].Line != 2 || rows[1].Line != 5 || rows[0].Values[1] != "Ann" || rows[0].Values[4] != "two\nlines" {
		t.Errorf("rows %+v", rows)
	}
	if strings.Join(bad, ";") != "line 4: has 2 fields, the header has 3" {
		t.Errorf("bad %q", bad)
	}
}

func TestReaders_Refuse(t *testing.T) {
	cases := []struct {
		f        Format
		in, want string
	}{
		{CSV, "", "line 1: no header row (want column names such as id, name, address.street, address.city, note)"},
		{CSV, "name,name\n", `line 1: column "name" appears twice`},
		{CSV, "name,x\n", `line 1: unknown column "x" (known: id, name, address.street, address.city, note)`},
		{XML, "", "line 1: XML: no <people> root element"},
		{XML, `<people xmlns="urn:crmsoap:v1"><robot/></people>`, `line 1: XML: element <robot> in "urn:crmsoap:v1": want <person> in "urn:crmsoap:v1"`},
		{XML, `<people xmlns="urn:crmsoap:v1"><person><name>x</name>`, "line 1: XML: unexpected EOF"},
		{JSONL, strings.Repeat("x", MaxLine+1), "line 1: longer than 1048576 bytes"},
	}
	for _, tc := range cases {
		r, err := NewReader(tc.f, people, strings.NewReader(tc.in))
		if err == nil {
			for err == nil {
				_, err = r.Next()
			}
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s %.40q: %v, want %s", tc.f, tc.in, err, tc.want)
		}
	}
	if _, err := ParseFormat("xlsx"); err == nil || err.Error() != `unknown format "xlsx" (want csv, jsonl or xml)` {
		t.Errorf("ParseFormat: %v", err)
	}
}
