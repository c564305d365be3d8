package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

// importStats counts the rows of an import.
type importStats struct{ rows, sent, created, refused int }

// importer reads rows, sends them in batches with up to `parallel` batches in
// flight, and reports the outcome of each batch in file order.
type importer struct {
	ent      *fileEntity
	clients  chan *gowsdlsoap.Client // one per batch in flight: each sets its own MessageID header
	batch    int
	parallel int
	dryRun   bool
	idBase   string // wsa:MessageID prefix: entity and file hash
	report   func(line int, code, field, message string) error
	p        *progress
	stats    importStats
	batchNo  int
	cur      *importJob
	inFlight []*importJob // oldest first
}

// importJob is one batch: its items, their lines, the rows refused before
// the server saw them, and, once done, its results.
type importJob struct {
	no      int
	items   []any
	lines   []int
	refused []refusal
	done    chan struct{}
	results []*wsdl.SaveResult
	err     error
}

// refusal is one line of the report.
type refusal struct {
	line                 int
	code, field, message string
}

func (im *importer) run(ctx context.Context, r records.Reader) error {
	im.cur = &importJob{}
	for {
		row, err := r.Next()
		if err == io.EOF {
			if err := im.submit(ctx); err != nil {
				return err
			}
			return im.drain(0)
		}
		if re, ok := records.IsRowError(err); ok {
			im.stats.rows++
			if err := im.refuse(ctx, refusal{re.Line, "MALFORMED_ROW", re.Field, re.Message}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			im.drain(0)
			return err
		}
		im.stats.rows++
		item, re := im.ent.prepare(row.Values)
		if re != nil {
			if err := im.refuse(ctx, refusal{row.Line, "VALIDATION_FAILED", re.Field, re.Message}); err != nil {
				return err
			}
			continue
		}
		im.cur.items, im.cur.lines = append(im.cur.items, item), append(im.cur.lines, row.Line)
		if len(im.cur.items) == im.batch {
			if err := im.submit(ctx); err != nil {
				return err
			}
		}
	}
}

// refuse holds a refused row for the report of the batch around it, so that
// the report is in line order; a long run of bad rows ends the batch early.
func (im *importer) refuse(ctx context.Context, r refusal) error {
	im.cur.refused = append(im.cur.refused, r)
	if len(im.cur.refused) >= im.batch {
		return im.submit(ctx)
	}
	return nil
}

// submit starts the current batch (waiting for the oldest when enough are in
// flight) and begins a new one.
func (im *importer) submit(ctx context.Context) error {
	j := im.cur
	im.cur = &importJob{}
	if err := im.drain(im.parallel - 1); err != nil {
		return err
	}
	j.done = make(chan struct{})
	im.inFlight = append(im.inFlight, j)
	if len(j.items) == 0 || im.dryRun {
		close(j.done)
		return nil
	}
	im.batchNo++
	j.no = im.batchNo
	sc := <-im.clients
	go func() {
		defer close(j.done)
		defer func() { im.clients <- sc }()
		j.results, j.err = im.send(ctx, sc, j)
	}()
	return nil
}

// drain finishes the oldest batches until at most keep are in flight.
func (im *importer) drain(keep int) error {
	var first error
	for len(im.inFlight) > keep {
		j := im.inFlight[0]
		im.inFlight = im.inFlight[1:]
		<-j.done
		if first == nil {
			first = im.finish(j)
		}
	}
	return first
}

// send calls the bulk upsert with the batch's own wsa:MessageID, retrying
// what did not reach a verdict (network errors, 503) with the same id.
func (im *importer) send(ctx context.Context, sc *gowsdlsoap.Client, j *importJob) ([]*wsdl.SaveResult, error) {
	sc.SetHeaders(wsaMessageID{ID: im.idBase + strconv.Itoa(j.no)})
	client := wsdl.NewCrmPortType(sc)
	for attempt, wait := 1, time.Second; ; attempt, wait = attempt+1, wait*2 {
		results, err := im.ent.upsert(ctx, client, j.items)
		if err == nil || attempt == 5 || !retryable(err) || ctx.Err() != nil {
			return results, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
}

// finish counts and reports the outcome of a batch.
func (im *importer) finish(j *importJob) error {
	n := len(j.items)
	im.stats.refused += len(j.refused)
	im.p.add(len(j.refused))
	if j.err != nil {
		return fmt.Errorf("batch %d (lines %d-%d): %w", j.no, j.lines[0], j.lines[n-1], describeCallError(j.err))
	}
	if !im.dryRun && len(j.results) != n {
		return fmt.Errorf("batch %d: %d results for %d records", j.no, len(j.results), n)
	}
	if !im.dryRun {
		im.stats.sent += n
	}
	for i, res := range j.results {
		if res.Success != nil && *res.Success {
			if res.Created != nil && *res.Created {
				im.stats.created++
			}
			continue
		}
		r := refusal{line: j.lines[i], code: "INTERNAL", message: "the server sent no error for a failed item"}
		if e := res.Error; e != nil {
			r.field, r.message = im.column(e.Field, e.Message)
			if e.Code != nil {
				r.code = string(*e.Code)
			}
		}
		im.stats.refused++
		j.refused = append(j.refused, r)
	}
	im.p.add(n)
	slices.SortStableFunc(j.refused, func(a, b refusal) int { return a.line - b.line })
	for _, r := range j.refused {
		if err := im.report(r.line, r.code, r.field, r.message); err != nil {
			return err
		}
	}
	return nil
}

// column turns an item error's field path (customer/address/city, or with
// the item's index, product[3]/price/amount) into the file's column name
// (address.city, price.amount), and its message into one without the path.
func (im *importer) column(field, message string) (string, string) {
	path := strings.TrimPrefix(field, im.ent.Element)
	if strings.HasPrefix(path, "[") {
		if i := strings.IndexByte(path, ']'); i > 0 {
			path = path[i+1:]
		}
	}
	path = strings.TrimPrefix(path, "/")
	message = strings.TrimPrefix(strings.TrimPrefix(message, field+": "), im.ent.Element+"/"+path+": ")
	return strings.ReplaceAll(path, "/", "."), message
}

// retryable reports whether a failed call may not have reached a verdict.
func retryable(err error) bool {
	var he *gowsdlsoap.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == http.StatusServiceUnavailable
	}
	return true
}
