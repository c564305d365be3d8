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
			if err := im.refuse(re.Line, "MALFORMED_ROW", re.Field, re.Message); err != nil {
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
			if err := im.refuse(row.Line, "VALIDATION_FAILED", re.Field, re.Message); err != nil {
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

func (im *importer) refuse(line int, code, field, message string) error {
	im.stats.refused++
	im.p.add(1)
	return im.report(line, code, field, message)
}

// flush sends the pending batch with its own wsa:MessageID, retrying what did
// not reach a verdict (network errors, 503) with the same id.
func (im *importer) flush(ctx context.Context) error {
	if len(im.items) == 0 {
		return nil
	}
	im.batchNo++
	n := len(im.items)
	defer func() { im.items, im.lines = im.items[:0], im.lines[:0] }()
	if im.dryRun {
		im.p.add(n)
		return nil
	}
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
		code, field, msg := "INTERNAL", "", "the server sent no error for a failed item"
		if res.Error != nil {
			field, msg = im.column(res.Error.Field), res.Error.Message
			if res.Error.Code != nil {
				code = string(*res.Error.Code)
			}
		}
		im.stats.refused++
		if err := im.report(im.lines[i], code, field, msg); err != nil {
			return err
		}
	}
	im.p.add(n)
	return nil
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
