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
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

const importUsage = `Usage: crmsoap import --entity customers --format csv|jsonl|xml [--dry-run] [--report errors.csv] [flags] FILE

Upserts the records of FILE by externalId, in batches of up to --batch, each
with a wsa:MessageID made of the file's SHA-256 and the batch number: running
the same import again (after a crash or Ctrl-C) creates nothing new, and a
batch the server already ran is answered from its stored outcome. The read-only
fields (id, version, createdAt, updatedAt) are accepted and ignored.

Every refused row is one line of the report (line, code, field, message; CSV
with --report, text on stderr without) and the command then exits non-zero.
--dry-run reads and checks the file (syntax, required and typed fields) without
calling the server.
`

// importStats counts the rows of an import.
type importStats struct{ rows, sent, created, refused int }

type importer struct {
	ent     *fileEntity
	client  wsdl.CrmPortType
	sc      *gowsdlsoap.Client
	batch   int
	dryRun  bool
	idBase  string // wsa:MessageID prefix: file hash
	report  func(line int, code, field, message string) error
	p       *progress
	stats   importStats
	batchNo int
	items   []any
	lines   []int
	refused []refusal // of the rows since the last batch, reported with it in line order
}

// refusal is one line of the report.
type refusal struct {
	line                 int
	code, field, message string
}

func (m *Main) importFile(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, importUsage); fs.PrintDefaults() }
	e := &envFlags{fs: fs, getenv: m.Getenv}
	var c fileClientFlags
	c.register(e)
	var dryRun bool
	var reportFile string
	var batch int
	fs.BoolVar(&dryRun, "dry-run", false, "check the file and report its bad rows without writing anything")
	fs.StringVar(&reportFile, "report", "", "write the refused rows to this CSV file (line,code,field,message)")
	fs.IntVar(&batch, "batch", 1000, "records per UpsertCustomers call (1..1000)")
	if err := e.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import: want exactly one FILE")
	}
	ent, format, sc, err := c.check()
	if err != nil {
		return err
	}
	if batch < 1 || batch > 1000 {
		return fmt.Errorf("import: --batch %d: want 1 to 1000", batch)
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
	im := &importer{ent: ent, client: wsdl.NewCrmPortType(sc), sc: sc, batch: batch, dryRun: dryRun,
		idBase: "urn:crmsoap:import:" + ent.Name + ":" + sum[:32] + ":"}
	verb := "imported"
	if dryRun {
		verb = "checked"
	}
	im.p = newProgress(m.Stderr, verb, size)
	im.report = func(line int, code, field, message string) error {
		fmt.Fprintf(m.Stderr, "line %d: %s %s: %s\n", line, code, field, message)
		return nil
	}
	if reportFile != "" {
		rf, err := os.Create(reportFile)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer rf.Close()
		w := csv.NewWriter(rf)
		defer w.Flush()
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
	if err := im.run(ctx, r); err != nil {
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

func (im *importer) run(ctx context.Context, r records.Reader) error {
	for {
		row, err := r.Next()
		if err == io.EOF {
			return im.flush(ctx)
		}
		if re, ok := records.IsRowError(err); ok {
			im.stats.rows++
			if err := im.refuse(ctx, re.Line, "MALFORMED_ROW", re.Field, re.Message); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		im.stats.rows++
		item, re := im.ent.prepare(row.Values)
		if re != nil {
			if err := im.refuse(ctx, row.Line, "VALIDATION_FAILED", re.Field, re.Message); err != nil {
				return err
			}
			continue
		}
		im.items, im.lines = append(im.items, item), append(im.lines, row.Line)
		if len(im.items) == im.batch {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
	}
}

// refuse holds a refused row until the batch around it is sent, so that the
// report is in line order; a long run of bad rows sends the batch early.
func (im *importer) refuse(ctx context.Context, line int, code, field, message string) error {
	im.stats.refused++
	im.p.add(1)
	im.refused = append(im.refused, refusal{line, code, field, message})
	if len(im.refused) >= im.batch {
		return im.flush(ctx)
	}
	return nil
}

// writeReport writes the held refusals in line order.
func (im *importer) writeReport() error {
	slices.SortStableFunc(im.refused, func(a, b refusal) int { return a.line - b.line })
	for _, r := range im.refused {
		if err := im.report(r.line, r.code, r.field, r.message); err != nil {
			return err
		}
	}
	im.refused = im.refused[:0]
	return nil
}

// flush sends the pending batch with its own wsa:MessageID, retrying what did
// not reach a verdict (network errors, 503) with the same id.
func (im *importer) flush(ctx context.Context) error {
	if len(im.items) == 0 || im.dryRun {
		im.p.add(len(im.items))
		im.items, im.lines = im.items[:0], im.lines[:0]
		return im.writeReport()
	}
	im.batchNo++
	n := len(im.items)
	defer func() { im.items, im.lines = im.items[:0], im.lines[:0] }()
	im.sc.SetHeaders(wsaMessageID{ID: im.idBase + strconv.Itoa(im.batchNo)})
	var results []*wsdl.SaveResult
	var err error
	for attempt, wait := 1, time.Second; ; attempt, wait = attempt+1, wait*2 {
		results, err = im.ent.upsert(ctx, im.client, im.items)
		if err == nil || attempt == 5 || !retryable(err) || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	if err != nil {
		return fmt.Errorf("batch %d (lines %d-%d): %w", im.batchNo, im.lines[0], im.lines[n-1], describeCallError(err))
	}
	if len(results) != n {
		return fmt.Errorf("batch %d: %d results for %d records", im.batchNo, len(results), n)
	}
	im.stats.sent += n
	for i, res := range results {
		if res.Success != nil && *res.Success {
			if res.Created != nil && *res.Created {
				im.stats.created++
			}
			continue
		}
		r := refusal{line: im.lines[i], code: "INTERNAL", message: "the server sent no error for a failed item"}
		if e := res.Error; e != nil {
			r.field, r.message = im.column(e.Field), strings.TrimPrefix(e.Message, e.Field+": ")
			if e.Code != nil {
				r.code = string(*e.Code)
			}
		}
		im.stats.refused++
		im.refused = append(im.refused, r)
	}
	im.p.add(n)
	return im.writeReport()
}

// column turns a fault's field path (customer/address/city) into the file's
// column name (address.city).
func (im *importer) column(field string) string {
	return strings.ReplaceAll(strings.TrimPrefix(field, im.ent.Element+"/"), "/", ".")
}

// retryable reports whether a failed call may not have reached a verdict.
func retryable(err error) bool {
	var he *gowsdlsoap.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == http.StatusServiceUnavailable
	}
	return true
}
