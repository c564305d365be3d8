package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmsoap/crmsoap/wsdl"
)

var trickyProducts = []*wsdl.ProductData{
	{Sku: "SKU-EUR", Name: "Kaffee, \"gemahlen\" 😀", Description: "line one\nline two, <b>&</b>", Category: "北京",
		Price: money("12.3", "EUR"), StockQuantity: qty(10), LowStockThreshold: qty(3)},
	{Sku: "SKU-JPY", Name: "Matcha", Price: money("500", "JPY"), StockQuantity: qty(2), LowStockThreshold: qty(5), Active: wflag(false)},
	{Sku: "SKU-KWD", Name: "Dates", Price: money("1.5", "KWD"), StockQuantity: qty(0)},
	{Sku: "SKU-GONE", Name: "To be deleted", Price: money("1", "EUR"), StockQuantity: qty(1)},
}

// writableProducts are product rows without its read-only id, version and times.
func writableProducts(rows [][]string) string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r[pSKU:], "|"))
	}
	return strings.Join(out, "\n")
}

// exportProducts exports the products of the server at url to path and reads them back.
func exportProducts(t *testing.T, url, format, path string) [][]string {
	t.Helper()
	if _, stderr, err := runCmd(t, "export", "--url", url, "--entity", "products", "--format", format, "--out", path); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	return readEntityRows(t, productsFile, format, path)
}

func TestExportImport_Products(t *testing.T) {
	for _, format := range []string{"csv", "jsonl", "xml"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			a, b := startDevServer(t, ""), startDevServer(t, "")
			ctx := waitCtx(t)
			res, err := a.client().UpsertProductsContext(ctx, &wsdl.UpsertProducts{Product: trickyProducts})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultCodes(t, res.Result); got != "0:ok 1:ok 2:ok 3:ok" {
				t.Fatalf("seed: %s", got)
			}
			if _, err := a.client().DeleteProductContext(ctx, &wsdl.DeleteProduct{Id: res.Result[3].Id}); err != nil {
				t.Fatal(err)
			}
			// Customers are in the feed too; a products export leaves them out.
			if _, err := a.client().UpsertCustomersContext(ctx, &wsdl.UpsertCustomers{Customer: tricky[:1]}); err != nil {
				t.Fatal(err)
			}
			first := filepath.Join(dir, "a."+format)
			_, stderr, err := runCmd(t, "export", "--url", a.URL, "--entity", "products", "--format", format, "--out", first)
			if err != nil || !strings.Contains(stderr, "exported 3 rows") || !strings.Contains(stderr, "1 deletions skipped") {
				t.Fatalf("export: %v\n%s", err, stderr)
			}
			rows := readEntityRows(t, productsFile, format, first)
			want := "SKU-EUR|Kaffee, \"gemahlen\" 😀|line one\nline two, <b>&</b>|北京|12.30|EUR|10|3|false|true|0.00|0\n" +
				"SKU-JPY|Matcha|||500|JPY|2|5|true|false|0.00|0\n" +
				"SKU-KWD|Dates|||1.500|KWD|0|0|true|true|0.00|0"
			if got := writableProducts(rows); got != want {
				t.Fatalf("exported products:\n%s\nwant\n%s", got, want)
			}
			raw, _ := os.ReadFile(first)
			switch format {
			case "csv":
				if !bytes.HasPrefix(raw, []byte("id,version,createdAt,updatedAt,sku,name,description,category,price.amount,price.currency,"+
					"stockQuantity,lowStockThreshold,lowStock,active,rating.average,rating.count\n")) {
					t.Errorf("CSV header:\n%s", raw)
				}
			case "jsonl":
				if !bytes.Contains(raw, []byte(`"price":{"amount":"12.30","currency":"EUR"},"stockQuantity":10,"lowStockThreshold":3,"lowStock":false,"active":true,"rating":{"average":"0.00","count":0}`)) {
					t.Errorf("JSON Lines: money must be a string, counts numbers, flags booleans:\n%s", raw)
				}
			case "xml":
				if !bytes.Contains(raw, []byte(`<price><amount>1.500</amount><currency>KWD</currency></price>`)) {
					t.Errorf("XML:\n%s", raw)
				}
			}

			_, stderr, err = runCmd(t, "import", "--url", b.URL, "--entity", "products", "--format", format, first)
			if err != nil || !strings.Contains(stderr, "imported 3 rows") || !strings.Contains(stderr, "3 created, 0 refused") {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			if got := writableProducts(exportProducts(t, b.URL, format, filepath.Join(dir, "b."+format))); got != want {
				t.Errorf("round trip differs:\n%s\nwant\n%s", got, want)
			}
			// The same file again: its batches are answered from their stored outcome.
			_, stderr, err = runCmd(t, "import", "--url", b.URL, "--entity", "products", "--format", format, first)
			if err != nil || !strings.Contains(stderr, "3 sent, 3 created, 0 refused") {
				t.Errorf("rerun: %v\n%s", err, stderr)
			}
			// A changed file (new MessageIDs) upserts by sku: nothing new.
			changed := filepath.Join(dir, "changed."+format)
			if err := os.WriteFile(changed, append(raw, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, err = runCmd(t, "import", "--url", b.URL, "--entity", "products", "--format", format, changed)
			if err != nil || !strings.Contains(stderr, "3 sent, 0 created, 0 refused") {
				t.Errorf("import of the changed file: %v\n%s", err, stderr)
			}
			if got := writableProducts(exportProducts(t, b.URL, format, filepath.Join(dir, "c."+format))); got != want {
				t.Errorf("after reruns:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestImport_ProductsBadInput: every bad product file is refused with its exact
// message; refused rows are reported with line, code, column and message; a
// file that cannot be read writes nothing.
func TestImport_ProductsBadInput(t *testing.T) {
	srv := startDevServer(t, "")
	dir := t.TempDir()
	header := "sku,name,price.amount,price.currency,stockQuantity\n"
	cases := []struct {
		name, format, file string
		want               string // the error line
		report             string // the report, when rows are refused
		written            int    // products the server has after it
	}{
		{name: "csv unknown header", format: "csv", file: "sku,nmae\nS-1,Tea\n",
			want: `unknown column "nmae" (known: id, version, createdAt, updatedAt, sku, name, description, category, price.amount, price.currency, stockQuantity, lowStockThreshold, lowStock, active, rating.average, rating.count)`},
		{name: "csv unbalanced quotes", format: "csv", file: header + "S-1,\"Tea,1.00,EUR,5\nS-2,Cup,2.00,EUR,1\n",
			want: `csv: record on line 2; parse error on line 3, column 20: extraneous or missing " in quoted-field`},
		{name: "xml customers root", format: "xml", file: "<customers xmlns=\"urn:crmsoap:v1\"></customers>",
			want: `line 1: XML: root element <customers> in "urn:crmsoap:v1": want <products> in "urn:crmsoap:v1"`},
		{name: "csv bad rows", format: "csv",
			file: header + "S-1,Tea,1.00,EUR,5\nS-2,Cup\n,No sku,1,EUR,1\nS-4,Mug,1.2.3,EUR,1\nS-5,Pot,1.00,EUR,many\n" +
				"S-6,Bowl,1.001,EUR,1\nS-7,Jar,1,XXX,1\nS-8,Bad\xff,1,EUR,1\nS-9,\"Multi\nline\",3,EUR,1\n",
			want: `8 of 9 rows refused`,
			report: "line,code,field,message\n3,MALFORMED_ROW,,\"has 2 fields, the header has 5\"\n" +
				"4,VALIDATION_FAILED,sku,is required: import upserts products by sku\n" +
				"5,VALIDATION_FAILED,price.amount,\"\"\"1.2.3\"\": want a decimal number such as 12.30\"\n" +
				"6,VALIDATION_FAILED,stockQuantity,\"\"\"many\"\": want a whole number\"\n" +
				"7,VALIDATION_FAILED,price.amount,1.001 has 3 fraction digits; EUR has 2\n" +
				"8,VALIDATION_FAILED,price.currency,\"\"\"XXX\"\" is not an ISO 4217 currency code this server knows (such as EUR, USD, JPY)\"\n" +
				"9,MALFORMED_ROW,name,invalid UTF-8\n" +
				"10,VALIDATION_FAILED,name,contains a control character\n",
			written: 1},
		{name: "jsonl bad rows", format: "jsonl",
			file: "{\"sku\":\"J-1\",\"name\":\"Tea\",\"price\":{\"amount\":\"1\",\"currency\":\"EUR\"},\"stockQuantity\":1,\"active\":\"maybe\"}\n" +
				"{\"sku\":\"J-2\",\"name\":\"T\xff\"}\n{\"sku\":\"J-3\",\"colour\":\"red\"}\n",
			want: `3 of 3 rows refused`,
			report: "line,code,field,message\n1,VALIDATION_FAILED,active,\"\"\"maybe\"\": want true or false\"\n" +
				"2,MALFORMED_ROW,,invalid UTF-8\n3,MALFORMED_ROW,colour,unknown field\n",
			written: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			importBad(t, srv.URL, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+"."+tc.format), tc.file,
				[]string{"--entity", "products", "--format", tc.format}, tc.want, tc.report)
			if n := len(exportProducts(t, srv.URL, "csv", filepath.Join(dir, "out-"+tc.name+".csv"))); n != tc.written {
				t.Errorf("the server has %d products, want %d", n, tc.written)
			}
		})
	}
}

// TestExport_UnknownEntityOrFormat names what export knows.
func TestExport_UnknownEntityOrFormat(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x")
	for _, tc := range []struct{ args, want string }{
		{"--entity planets --format csv", `crmsoap: unknown entity "planets" (want customers, products, orders or reviews)`},
		{"--entity orders --format xlsx", `crmsoap: unknown format "xlsx" (want csv, jsonl or xml)`},
		{"--format csv", `crmsoap: unknown entity "" (want customers, products, orders or reviews)`},
	} {
		_, stderr, err := runCmd(t, append([]string{"export", "--out", out}, strings.Fields(tc.args)...)...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("export %s: %v\n%s\nwant %q", tc.args, err, stderr, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("export %s wrote %s", tc.args, out)
		}
	}
}

// TestImport_ProductsDryRun checks a products file locally and writes nothing.
func TestImport_ProductsDryRun(t *testing.T) {
	srv := startDevServer(t, "")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	if err := os.WriteFile(good, []byte(`{"sku":"D-1","name":"Tea","price":{"amount":"1.50","currency":"EUR"},"stockQuantity":3,"active":true}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCmd(t, "import", "--url", srv.URL, "--entity", "products", "--format", "jsonl", "--dry-run", good)
	if err != nil || !strings.Contains(stderr, "checked 1 rows") || !strings.Contains(stderr, "0 sent, 0 created, 0 refused") {
		t.Errorf("dry run of a good file: %v\n%s", err, stderr)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("sku,price.amount,lowStockThreshold\nD-1,12.30,-\n,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = runCmd(t, "import", "--url", srv.URL, "--entity", "products", "--format", "csv", "--dry-run", bad)
	want := "line 2: VALIDATION_FAILED lowStockThreshold: \"-\": want a whole number\n" +
		"line 3: VALIDATION_FAILED sku: is required: import upserts products by sku\n"
	if err == nil || !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "2 of 2 rows refused (listed above)") {
		t.Errorf("dry run of a bad file: %v\n%s\nwant it to start with\n%s", err, stderr, want)
	}
	if n := len(exportProducts(t, srv.URL, "csv", filepath.Join(dir, "out.csv"))); n != 0 {
		t.Errorf("after dry runs the server has %d products, want none", n)
	}
}
