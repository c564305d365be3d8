package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// The big database: --feed-records customers, each with its feed entry, for the
// feed and search scenarios.
const (
	seedBatch  = 10000 // customers per WriteCustomers call while seeding (the store's most)
	feedPage   = 5000  // maxChanges of the feed reader: the contract's most
	searchPage = 100   // pageSize of the search scenarios: the contract's default
	walkPage   = 1000  // pageSize of the walk to the deep page token: the contract's most
)

// seedBig creates n customers with externalIds in the database file path,
// before any server opens it: WriteCustomers calls of seedBatch adds, two in
// flight so that building the next call overlaps the commit of the last.
func seedBig(ctx context.Context, path string, n int) error {
	db, err := openStore(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UTC()
	calls := make(chan int)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			ops := make([]store.CustomerOp, 0, seedBatch)
			for first := range calls {
				ops = ops[:0]
				for i := first; i < min(n, first+seedBatch); i++ {
					c := storedCustomer(i, now)
					c.ExternalID = "erp-" + strconv.Itoa(i)
					c.CreatedBy, c.UpdatedBy = "erp", "erp"
					ops = append(ops, store.CustomerOp{Kind: store.OpAdd, Customer: c})
				}
				rs, err := db.WriteCustomers(ctx, ops, true, nil)
				if err == nil && len(rs) > 0 && rs[0].Err != nil {
					err = rs[0].Err
				}
				if err != nil {
					errs <- fmt.Errorf("seed customers %d-%d: %w", first, first+len(ops)-1, err)
					for range calls { // let the producer finish
					}
					return
				}
			}
		})
	}
	for first := 0; first < n && ctx.Err() == nil; first += seedBatch {
		calls <- first
	}
	close(calls)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return db.Close()
}

// runFeed follows the change feed of the big database from the beginning to
// hasMore=false with one reader, every call timed, and checks that it saw
// every customer once. --conns, --warmup and --duration do not apply.
func (m *Main) runFeed(ctx context.Context, cfg *config, env *environment) (reportRow, error) {
	t := env.big
	m.progress("feed: following GetChanges over %d customers, %d per call", env.bigN, feedPage)
	rssStart, _ := procStatusKB(t.pid, "VmRSS")
	hwmStart, _ := procStatusKB(t.pid, "VmHWM")
	run := &result{serverCPU: -1}
	cpu0, cpuErr := processCPU(t.pid)
	self0, _ := processCPU(0)
	var changes int64
	var buf bytes.Buffer
	cursor, more := "", true
	start := time.Now()
	for more && ctx.Err() == nil {
		t0 := time.Now()
		err := postInto(ctx, env.tr, t, getChanges(cursor, feedPage), &buf)
		run.hist.record(time.Since(t0))
		run.requests++
		var c []byte
		if err == nil {
			if c = lastElement(buf.Bytes(), "nextCursor"); c == nil {
				err = fmt.Errorf("no nextCursor in the answer: %.300s", buf.Bytes())
			}
		}
		if err != nil {
			run.errors++
			run.firstErr = err.Error()
			break
		}
		changes += int64(bytes.Count(buf.Bytes(), changeOpen))
		// hasMore follows nextCursor, after every change.
		tail := buf.Bytes()[bytes.LastIndex(buf.Bytes(), []byte("<nextCursor>")):]
		cursor, more = string(c), bytes.Contains(tail, hasMoreTrue)
	}
	run.elapsed = time.Since(start)
	if cpu1, err := processCPU(t.pid); err == nil && cpuErr == nil {
		run.serverCPU = cpu1 - cpu0
	}
	self1, _ := processCPU(0)
	run.clientCPU = self1 - self0
	if run.errors == 0 && changes != int64(env.bigN) {
		run.errors++
		run.firstErr = fmt.Sprintf("the walk saw %d changes, the database holds %d customers", changes, env.bigN)
	}
	peak, _ := procStatusKB(t.pid, "VmHWM")
	row := reportRow{conns: 1, run: run, recs: &recordStats{unit: "changes", count: changes,
		perCall: float64(changes) / float64(run.requests), target: targetFeed, rssStart: rssStart, rssPeak: peak},
		note: fmt.Sprintf("one reader follows the whole feed from no cursor to hasMore=false (%d calls, %d changes, %s; "+
			"--conns, --warmup and --duration do not apply); server VmRSS %s and VmHWM %s before the walk, VmHWM %s after",
			run.requests, changes, run.elapsed.Round(10*time.Millisecond), mb(rssStart), mb(hwmStart), mb(peak))}
	return row, ctx.Err()
}

// runSearch loads the big database's server with one SearchCustomers page of
// 100, repeated: the first page, or the page after customer --feed-records - 100.
func (m *Main) runSearch(ctx context.Context, cfg *config, env *environment, sc scenario, conns int) (reportRow, error) {
	token, note := "", ""
	if sc.id == "search-deep" {
		var err error
		if token, note, err = m.deepToken(ctx, env); err != nil {
			return reportRow{}, err
		}
	}
	src := &source{reqs: []request{searchCustomers(token, searchPage)}, cycle: true, check: checkPage(searchPage)}
	m.progress("%s at %d conns: %s warm-up, %s timed", sc.id, conns, cfg.warmup, cfg.duration)
	run, err := load(ctx, env.tr, env.big.withProfile(cfg.profileDir, sc.id, conns), src, conns, cfg.warmup, cfg.duration)
	if err != nil {
		return reportRow{}, err
	}
	m.reportProfileErr(run)
	return reportRow{conns: conns, run: run, note: note}, nil
}

// deepToken pages through the big database once, as a client would, for the
// nextPageToken after customer --feed-records - 100: the token of the page
// holding the last 100 customers. A filter cannot start a page deep (every
// filter pages in id order from the first match), and the token is sealed by
// the server. Kept for the other concurrency levels.
func (m *Main) deepToken(ctx context.Context, env *environment) (token, note string, err error) {
	if env.deepTok != "" {
		return env.deepTok, env.deepNote, nil
	}
	want := env.bigN - searchPage
	m.progress("search-deep: paging through %d customers for the page token after them", want)
	var buf bytes.Buffer
	seen, calls := 0, 0
	start := time.Now()
	for seen < want {
		n := min(walkPage, want-seen)
		if err := postInto(ctx, env.tr, env.big, searchCustomers(token, n), &buf); err != nil {
			return "", "", fmt.Errorf("search-deep: page %d: %w", calls+1, err)
		}
		calls++
		got := bytes.Count(buf.Bytes(), customerOpen)
		t := lastElement(buf.Bytes(), "nextPageToken")
		if got != n || t == nil {
			return "", "", fmt.Errorf("search-deep: page %d: %d customers (want %d), next token %t: %.300s",
				calls, got, n, t != nil, buf.Bytes())
		}
		seen += got
		token = string(t)
	}
	d := time.Since(start)
	env.deepTok = token
	env.deepNote = fmt.Sprintf("the page after customer %d of %d; its token came from paging through them once before the window "+
		"(%d calls of up to %d, %s, %.0f customers/s)", want, env.bigN, calls, walkPage, d.Round(10*time.Millisecond),
		float64(seen)/d.Seconds())
	return token, env.deepNote, nil
}

// postInto sends r outside the timed windows and reads the whole answer into buf;
// any status but 200 is an error.
func postInto(ctx context.Context, tr *http.Transport, t *target, r request, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url.String(), bytes.NewReader(r.body))
	if err != nil {
		return err
	}
	req.Header = r.header.Clone()
	resp, err := (&http.Client{Transport: tr, Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.600s", resp.StatusCode, buf.Bytes())
	}
	return nil
}

// procStatusKB reads a kB field of /proc/PID/status, such as VmRSS or VmHWM.
func procStatusKB(pid int, field string) (int64, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("no process")
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return statusKB(f, field)
}

func statusKB(r io.Reader, field string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected %q", field, v)
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s", field)
}

// mb formats kB as MB; "?" when unknown.
func mb(kb int64) string {
	if kb <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MB", float64(kb)/1024)
}
