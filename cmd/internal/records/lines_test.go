package records

import (
	"bytes"
	"testing"
)

var orders = &Entity{Name: "orders", Element: "order", Fields: []Field{
	{Name: "id", Number: true}, {Name: "paid", Bool: true}, {Name: "total.amount"}, {Name: "total.currency"}, {Name: "note"},
}, Lines: &Lines{Name: "line", At: 2, Fields: []Field{
	{Name: "lineNo", Number: true}, {Name: "sku"}, {Name: "price.amount"}, {Name: "price.currency"},
}}}

// A record's lines nest in XML and JSON Lines where the contract has them, and
// repeat the record in CSV, one row per line.
func TestWriteLines(t *testing.T) {
	recs := []struct {
		values []string
		lines  [][]string
	}{
		{[]string{"1", "true", "12.30", "EUR", "a, \"b\""}, [][]string{{"1", "S-1", "10.00", "EUR"}, {"2", "S,2", "2.30", "EUR"}}},
		{[]string{"2", "false", "0", "JPY", ""}, nil},
	}
	want := map[Format]string{
		CSV: "id,paid,total.amount,total.currency,note,line.lineNo,line.sku,line.price.amount,line.price.currency\n" +
			"1,true,12.30,EUR,\"a, \"\"b\"\"\",1,S-1,10.00,EUR\n" +
			"1,true,12.30,EUR,\"a, \"\"b\"\"\",2,\"S,2\",2.30,EUR\n" +
			"2,false,0,JPY,,,,,\n",
		JSONL: `{"id":1,"paid":true,"line":[{"lineNo":1,"sku":"S-1","price":{"amount":"10.00","currency":"EUR"}},` +
			`{"lineNo":2,"sku":"S,2","price":{"amount":"2.30","currency":"EUR"}}],"total":{"amount":"12.30","currency":"EUR"},"note":"a, \"b\""}` + "\n" +
			`{"id":2,"paid":false,"line":[],"total":{"amount":"0","currency":"JPY"}}` + "\n",
		XML: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders xmlns=\"urn:crmsoap:v1\">\n" +
			"  <order><id>1</id><paid>true</paid><line><lineNo>1</lineNo><sku>S-1</sku><price><amount>10.00</amount><currency>EUR</currency></price></line>" +
			"<line><lineNo>2</lineNo><sku>S,2</sku><price><amount>2.30</amount><currency>EUR</currency></price></line>" +
			"<total><amount>12.30</amount><currency>EUR</currency></total><note>a, &#34;b&#34;</note></order>\n" +
			"  <order><id>2</id><paid>false</paid><total><amount>0</amount><currency>JPY</currency></total></order>\n</orders>\n",
	}
	for _, f := range []Format{CSV, JSONL, XML} {
		var buf bytes.Buffer
		w, err := NewWriter(f, orders, &buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := w.WriteLines(r.values, r.lines); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want[f] {
			t.Errorf("%s:\n got %s\nwant %s", f, buf.String(), want[f])
		}
	}
}

// A JSON boolean reads as "true" or "false".
func TestJSONL_Bool(t *testing.T) {
	ent := &Entity{Name: "products", Element: "product", Fields: []Field{{Name: "sku"}, {Name: "active", Bool: true}}}
	r, err := NewReader(JSONL, ent, bytes.NewReader([]byte("{\"sku\":\"A\",\"active\":false}\n{\"sku\":\"B\",\"active\":true}\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"false", "true"} {
		row, err := r.Next()
		if err != nil || row.Values[1] != want {
			t.Fatalf("row %+v, %v: want active %s", row, err, want)
		}
	}
}
