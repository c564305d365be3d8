package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
	"github.com/crmsoap/crmsoap/wsdl"
)

// runCmd runs the crmsoap binary and returns its stdout and stderr apart.
func runCmd(tb testing.TB, args ...string) (string, string, error) {
	tb.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// readRows reads every customer of a file written by export, failing on any error.
func readRows(tb testing.TB, format, path string) [][]string {
	tb.Helper()
	return readEntityRows(tb, customersFile, format, path)
}

// readEntityRows reads every row of ent in a file written by export, failing on any error.
func readEntityRows(tb testing.TB, ent *fileEntity, format, path string) [][]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := records.NewReader(records.Format(format), &ent.Entity, f)
	if err != nil {
		tb.Fatal(err)
	}
	var rows [][]string
	for {
		row, err := r.Next()
		if err != nil {
			if err.Error() != "EOF" {
				tb.Fatalf("%s: %v", path, err)
			}
			return rows
		}
		rows = append(rows, row.Values)
	}
}

// writable is a row without its read-only fields (id, version, createdAt, updatedAt).
func writable(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%q", r[cExternalID:])
	}
	return out
}

var tricky = []*wsdl.CustomerData{
	{ExternalId: "ERP-1", Name: "张伟 😀", Email: "zhang@example.com", Phone: "+86 10 1234 5678", Gender: gender(wsdl.GenderMALE),
		Company: "Acme, \"Quoted\" Ltd.", Address: &wsdl.Address{Street: "1 Line, \"Quoted\"", City: "北京",
			Region: "BJ", PostalCode: "100000", Country: "CN"}},
	{ExternalId: "ERP-2", Name: "Ann <&> O'Neil", Company: "a,b,c", Address: &wsdl.Address{City: "Zürich", Country: "CH"}},
	{ExternalId: "ERP-3", Name: "Plain"},
	{ExternalId: "ERP-4", Name: "To be deleted"},
}

func TestExportImport_RoundTrip(t *testing.T) {
	for _, format := range []string{"csv", "jsonl", "xml"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			a, b := startDevServer(t, ""), startDevServer(t, "")
			ctx := waitCtx(t)
			res, err := a.client().UpsertCustomersContext(ctx, &wsdl.UpsertCustomers{Customer: tricky})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultCodes(t, res.Result); got != "0:ok 1:ok 2:ok 3:ok" {
				t.Fatalf("seed: %s", got)
			}
			if _, err := a.client().DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: res.Result[3].Id}); err != nil {
				t.Fatal(err)
			}
			first := filepath.Join(dir, "a."+format)
			cursor, stderr, err := runCmd(t, "export", "--url", a.URL, "--entity", "customers", "--format", format, "--out", first)
			if err != nil {
				t.Fatalf("export: %v\n%s", err, stderr)
			}
			if !strings.Contains(stderr, "exported 3 rows") || !strings.Contains(stderr, "1 deletions skipped") {
				t.Errorf("export summary: %s", stderr)
			}
			if format == "csv" {
				raw, _ := os.ReadFile(first)
				if !bytes.Contains(raw, []byte(`"1 Line, ""Quoted"""`)) || !bytes.Contains(raw, []byte(`"Acme, ""Quoted"" Ltd."`)) {
					t.Errorf("CSV does not quote commas and quotes:\n%s", raw)
				}
			}
			rowsA := readRows(t, format, first)
			if len(rowsA) != 3 || rowsA[0][cName] != "张伟 😀" || rowsA[0][cStreet] != "1 Line, \"Quoted\"" ||
				rowsA[1][cCompany] != "a,b,c" || rowsA[0][cCity] != "北京" {
				t.Fatalf("exported rows: %q", rowsA)
			}

			_, stderr, err = runCmd(t, "import", "--url", b.URL, "--entity", "customers", "--format", format, first)
			if err != nil || !strings.Contains(stderr, "imported 3 rows") || !strings.Contains(stderr, "3 created, 0 refused") {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			second := filepath.Join(dir, "b."+format)
			if _, stderr, err := runCmd(t, "export", "--url", b.URL, "--entity", "customers", "--format", format, "--out", second); err != nil {
				t.Fatalf("export b: %v\n%s", err, stderr)
			}
			got, want := writable(readRows(t, format, second)), writable(rowsA)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("round trip differs:\n got %s\nwant %s", got, want)
			}

			// Rerun: the same file's batches carry the same wsa:MessageIDs and are
			// answered from their stored outcome; a changed file (new ids) upserts
			// by externalId and creates nothing either.
			_, stderr, err = runCmd(t, "import", "--url", b.URL, "--entity", "customers", "--format", format, first)
			if err != nil || !strings.Contains(stderr, "3 sent, 3 created, 0 refused") {
				t.Errorf("rerun: %v\n%s", err, stderr)
			}
			raw, err := os.ReadFile(first)
			if err != nil {
				t.Fatal(err)
			}
			changed := filepath.Join(dir, "changed."+format)
			if err := os.WriteFile(changed, append(raw, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, err = runCmd(t, "import", "--url", b.URL, "--entity", "customers", "--format", format, changed)
			if err != nil || !strings.Contains(stderr, "3 sent, 0 created, 0 refused") {
				t.Errorf("import of the changed file: %v\n%s", err, stderr)
			}
			third := filepath.Join(dir, "c."+format)
			if _, stderr, err := runCmd(t, "export", "--url", b.URL, "--entity", "customers", "--format", format, "--out", third); err != nil {
				t.Fatalf("export b again: %v\n%s", err, stderr)
			}
			if n := len(readRows(t, format, third)); n != 3 {
				t.Errorf("after a rerun b has %d customers, want 3", n)
			}

			// Incremental: only what changed after the printed cursor.
			if _, err := a.client().UpsertCustomersContext(ctx, &wsdl.UpsertCustomers{Customer: []*wsdl.CustomerData{
				{ExternalId: "ERP-2", Name: "Ann changed"}, {ExternalId: "ERP-5", Name: "New"}}}); err != nil {
				t.Fatal(err)
			}
			inc := filepath.Join(dir, "inc."+format)
			next, stderr, err := runCmd(t, "export", "--url", a.URL, "--entity", "customers", "--format", format, "--out", inc,
				"--since", strings.TrimSpace(cursor))
			if err != nil {
				t.Fatalf("incremental export: %v\n%s", err, stderr)
			}
			rows := readRows(t, format, inc)
			if len(rows) != 2 || rows[0][cExternalID] != "ERP-2" || rows[0][cName] != "Ann changed" || rows[1][cExternalID] != "ERP-5" {
				t.Errorf("incremental rows: %q", rows)
			}
			if strings.TrimSpace(next) == "" || strings.Count(next, "\n") != 1 {
				t.Errorf("export stdout %q: want one line, the cursor", next)
			}
			empty := filepath.Join(dir, "empty."+format)
			if _, stderr, err := runCmd(t, "export", "--url", a.URL, "--entity", "customers", "--format", format, "--out", empty,
				"--since", strings.TrimSpace(next)); err != nil || len(readRows(t, format, empty)) != 0 {
				t.Errorf("export after the last cursor: %v %s", err, stderr)
			}
		})
	}
}
