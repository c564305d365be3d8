package main

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

const importUsage = `Usage: crmsoap import --entity customers|products --format csv|jsonl|xml [--dry-run] [--report errors.csv] [flags] FILE

Upserts the records of FILE (customers by externalId with UpsertCustomers,
products by sku with UpsertProducts) in batches of up to --batch, each
with a wsa:MessageID made of the file's SHA-256, --batch and the batch number: running
the same import again (after a crash or Ctrl-C) creates nothing new, and a
batch the server already ran is answered from its stored outcome. The read-only
fields (id, version, createdAt, updatedAt; a product's lowStock and rating) are
accepted and ignored. Orders and reviews are exported only.

Every refused row is one line of the report (line, code, field, message; CSV
with --report, text on stderr without) and the command then exits non-zero.
--dry-run reads and checks the file (syntax, required and typed fields) without
calling the server.
`

func (m *Main) importFile(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, importUsage); fs.PrintDefaults() }
	e := &envFlags{fs: fs, getenv: m.Getenv}
	c := fileClientFlags{importing: true}
	c.register(e)
	var dryRun bool
	var reportFile string
	var batch, parallel int
	fs.BoolVar(&dryRun, "dry-run", false, "check the file and report its bad rows without writing anything")
	fs.StringVar(&reportFile, "report", "", "write the refused rows to this CSV file (line,code,field,message)")
	fs.IntVar(&batch, "batch", 1000, "records per UpsertCustomers or UpsertProducts call (1..1000)")
	fs.IntVar(&parallel, "parallel", 2, "batches in flight at once (1..16); the report stays in file order")
	if err := e.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import: want exactly one FILE")
	}
	ent, format, newClient, err := c.check()
	if err != nil {
		return err
	}
	if batch < 1 || batch > 1000 {
		return fmt.Errorf("import: --batch %d: want 1 to 1000", batch)
	}
	if parallel < 1 || parallel > 16 {
		return fmt.Errorf("import: --parallel %d: want 1 to 16", parallel)
	}
	path := fs.Arg(0)
	sum, size, err := hashFile(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	im := &importer{ent: ent, clients: make(chan *gowsdlsoap.Client, parallel), batch: batch, parallel: parallel,
		dryRun: dryRun, idBase: fmt.Sprintf("urn:crmsoap:import:%s:%s:%d:", ent.Name, sum[:32], batch)}
	for range parallel {
		im.clients <- newClient()
	}
	verb := "imported"
	if dryRun {
		verb = "checked"
	}
	im.p = newProgress(m.Stderr, verb, size)
	im.report = func(line int, code, field, message string) error {
		im.p.clear()
		fmt.Fprintf(m.Stderr, "line %d: %s %s: %s\n", line, code, field, message)
		return nil
	}
	closeReport := func() error { return nil }
	if reportFile != "" {
		rf, err := os.Create(reportFile)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer rf.Close()
		w := csv.NewWriter(rf)
		closeReport = func() error {
			w.Flush()
			return errors.Join(w.Error(), rf.Close())
		}
		if err := w.Write([]string{"line", "code", "field", "message"}); err != nil {
			return err
		}
		im.report = func(line int, code, field, message string) error {
			return w.Write([]string{strconv.Itoa(line), code, field, message})
		}
	}
	r, err := records.NewReader(format, &ent.Entity, countingReader{r: f, n: im.p.read})
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	err = im.run(ctx, r)
	if cerr := closeReport(); cerr != nil && err == nil {
		err = fmt.Errorf("report: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	s := im.stats
	im.p.done(fmt.Sprintf("%d sent, %d created, %d refused", s.sent, s.created, s.refused))
	if s.refused > 0 {
		where := "listed above"
		if reportFile != "" {
			where = "see " + reportFile
		}
		return fmt.Errorf("import %s: %d of %d rows refused (%s)", path, s.refused, s.rows, where)
	}
	return nil
}

// hashFile is the hex SHA-256 of the file at path and its size.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
