package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/wsdl"
)

// TestImport_BadInput: every bad input is refused with its exact message and a
// non-zero exit; bad rows are reported with their line numbers.
func TestImport_BadInput(t *testing.T) {
	srv := startDevServer(t, "")
	dir := t.TempDir()
	header := "externalId,name,email,address.city\n"
	cases := []struct {
		name, format, file string
		args               []string // replace the defaults when set
		want               string   // the error line
		report             string   // the report, when rows are refused
	}{
		{name: "unknown entity", args: []string{"--entity", "planets", "--format", "csv"},
			want: `crmsoap: unknown entity "planets" (want customers or products)`},
		{name: "orders not imported", args: []string{"--entity", "orders", "--format", "csv"},
			want: `crmsoap: entity "orders" is exported only: import knows customers or products`},
		{name: "reviews not imported", args: []string{"--entity", "reviews", "--format", "jsonl"},
			want: `crmsoap: entity "reviews" is exported only: import knows customers or products`},
		{name: "unknown format", args: []string{"--entity", "customers", "--format", "xlsx"},
			want: `crmsoap: unknown format "xlsx" (want csv, jsonl or xml)`},
		{name: "url not http", args: []string{"--entity", "customers", "--format", "csv", "--url", "ftp://example.com/soap"},
			want: `crmsoap: --url "ftp://example.com/soap": want an http:// or https:// URL`},
		{name: "csv unknown header", format: "csv", file: "externalId,nmae\nE-1,Ann\n",
			want: `unknown column "nmae" (known: id, version, createdAt, updatedAt, externalId, name, email, phone, gender, birthDate, company, address.street, address.city, address.region, address.postalCode, address.country)`},
		{name: "csv unbalanced quotes", format: "csv", file: header + "E-1,\"Ann,a@example.com,Berlin\nE-2,Bob,,\n",
			want: `csv: record on line 2; parse error on line 3, column 11: extraneous or missing " in quoted-field`},
		{name: "csv wrong column count", format: "csv", file: header + "E-1,Ann,,Berlin\nE-2,Bob\nE-3,Cy,,\n",
			want:   `1 of 3 rows refused`,
			report: "line,code,field,message\n3,MALFORMED_ROW,,\"has 2 fields, the header has 4\"\n"},
		{name: "csv invalid utf-8", format: "csv", file: header + "E-1,Ann\xff,,\n",
			want:   `1 of 1 rows refused`,
			report: "line,code,field,message\n2,MALFORMED_ROW,name,invalid UTF-8\n"},
		{name: "jsonl invalid utf-8", format: "jsonl", file: "{\"externalId\":\"E-1\",\"name\":\"A\xff\"}\n",
			want:   `1 of 1 rows refused`,
			report: "line,code,field,message\n1,MALFORMED_ROW,,invalid UTF-8\n"},
		{name: "xml invalid utf-8", format: "xml",
			file: "<customers xmlns=\"urn:crmsoap:v1\">\n<customer><externalId>E-1</externalId><name>A\xff</name></customer></customers>",
			want: `line 2: XML: invalid UTF-8`},
		{name: "xml doctype", format: "xml",
			file: "<!DOCTYPE x [<!ENTITY a \"b\">]>\n<customers xmlns=\"urn:crmsoap:v1\"></customers>",
			want: `line 1: XML: a DOCTYPE is not allowed`},
		{name: "xml wrong root", format: "xml", file: "<people xmlns=\"urn:crmsoap:v1\"></people>",
			want: `line 1: XML: root element <people> in "urn:crmsoap:v1": want <customers> in "urn:crmsoap:v1"`},
		{name: "bad rows", format: "csv",
			file: header + "E-1,Ann,not-an-address,Berlin\n,No Key,,\n\"E-3\",\"Multi\nline\",,\nE-4,Fine,,\"Zürich, CH\"\n",
			want: `3 of 4 rows refused`,
			report: "line,code,field,message\n2,VALIDATION_FAILED,email,\"\"\"not-an-address\"\" is not a valid email address\"\n" +
				"3,VALIDATION_FAILED,externalId,is required: import upserts by externalId\n" +
				"4,VALIDATION_FAILED,name,contains a control character\n"},
		{name: "jsonl bad rows", format: "jsonl",
			file: "{\"externalId\":\"E-1\",\"name\":\"Ann\",\"nmae\":\"x\"}\n{\"externalId\":\"E-2\",\"name\":\"Bob\",\"address\":{\"city\":\"Paris\"}}\n{\"externalId\":\n",
			want: `2 of 3 rows refused`,
			report: "line,code,field,message\n1,MALFORMED_ROW,nmae,unknown field\n" +
				"3,MALFORMED_ROW,,invalid JSON: unexpected EOF\n"},
		{name: "xml unknown field", format: "xml",
			file:   "<customers xmlns=\"urn:crmsoap:v1\">\n<customer>\n<externalId>E-1</externalId>\n<nmae>x</nmae>\n</customer>\n</customers>",
			want:   `1 of 1 rows refused`,
			report: "line,code,field,message\n4,MALFORMED_ROW,nmae,unknown field\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"--entity", "customers", "--format", tc.format}
			}
			importBad(t, srv.URL, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+"."+tc.format), tc.file, args, tc.want, tc.report)
		})
	}
}

// importBad writes file to path and imports it with args: the command must fail saying want, and
// write report (when not "") as its report.
func importBad(t *testing.T, url, path, file string, args []string, want, report string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	reportFile := path + ".report.csv"
	args = append([]string{"import", "--url", url, "--report", reportFile}, args...)
	_, stderr, err := runCmd(t, append(args, path)...)
	if err == nil {
		t.Fatalf("exit 0, want an error\n%s", stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr:\n%s\nwant %q", stderr, want)
	}
	if report != "" {
		got, err := os.ReadFile(reportFile)
		if err != nil || string(got) != report {
			t.Errorf("report:\n%s\nwant\n%s (%v)", got, report, err)
		}
	}
}

// TestImport_DryRun checks the file and writes nothing.
func TestImport_DryRun(t *testing.T) {
	srv := startDevServer(t, "")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(good, []byte("externalId,name\nE-1,Ann\nE-2,Bob\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCmd(t, "import", "--url", srv.URL, "--entity", "customers", "--format", "csv", "--dry-run", good)
	if err != nil || !strings.Contains(stderr, "checked 2 rows") || !strings.Contains(stderr, "0 sent, 0 created, 0 refused") {
		t.Errorf("dry run of a good file: %v\n%s", err, stderr)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("externalId,name,birthDate\nE-1,Ann,1990-13-01\n,Bob,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = runCmd(t, "import", "--url", srv.URL, "--entity", "customers", "--format", "csv", "--dry-run", bad)
	want := "line 2: VALIDATION_FAILED birthDate: \"1990-13-01\": want YYYY-MM-DD\n" +
		"line 3: VALIDATION_FAILED externalId: is required: import upserts by externalId\n"
	if err == nil || !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "2 of 2 rows refused (listed above)") {
		t.Errorf("dry run of a bad file: %v\n%s\nwant it to start with\n%s", err, stderr, want)
	}
	res, err := srv.client().GetChangesContext(waitCtx(t), &wsdl.GetChanges{})
	if err != nil || len(res.Change) != 0 {
		t.Errorf("after dry runs the server has changes %d, %v; want none", len(res.Change), err)
	}
}

// TestImport_InterruptedThenRerun: an import stopped by Ctrl-C part way and
// run again leaves every row exactly once.
func TestImport_InterruptedThenRerun(t *testing.T) {
	srv := startDevServer(t, "")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	const n = 6000
	writeCustomersCSV(t, in, n)
	cmd := exec.Command(binary, "import", "--url", srv.URL, "--entity", "customers", "--format", "csv", "--batch", "500", in)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := waitCtx(t)
	for { // wait for the first committed batch, then interrupt
		res, err := srv.client().GetChangesContext(ctx, &wsdl.GetChanges{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Change) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	t.Logf("interrupted import: %v\n%s", err, stderr.String())

	_, out, err := runCmd(t, "import", "--url", srv.URL, "--entity", "customers", "--format", "csv", "--batch", "500", in)
	if err != nil || !strings.Contains(out, fmt.Sprintf("imported %d rows", n)) {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	exported := filepath.Join(dir, "out.jsonl")
	if _, out, err := runCmd(t, "export", "--url", srv.URL, "--entity", "customers", "--format", "jsonl", "--out", exported); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	compareFiles(t, in, exported) // every row once, nothing else
}
