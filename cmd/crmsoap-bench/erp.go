package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// scenarioKind says how a scenario is run.
type scenarioKind int

// The kinds of scenario.
const (
	kindSingle scenarioKind = iota // one record per request, in the timed-window loop (and with a peer)
	kindBulk                       // UpsertCustomers of --batch items per call, at --batch-conns
	kindFeed                       // one reader following GetChanges over the big database
	kindSearch                     // SearchCustomers pages of 100 over the big database
	kindOrder                      // PlaceOrder of 5 lines over the seeded products, signed
)

// Targets of the ERP-sync scenarios, records (or changes) per second.
const (
	targetBulkUnsigned = 25000
	targetBulkSigned   = 15000
	targetFeed         = 50000
)

var (
	actionUpsertMany = soapHeader("urn:crmsoap:v1#UpsertCustomers")
	actionSearch     = soapHeader("urn:crmsoap:v1#SearchCustomers")
	actionChanges    = soapHeader("urn:crmsoap:v1#GetChanges")
)

// upsertCustomers is an UpsertCustomers call of batch customers, number i of a
// run: externalIds prefix-(i*batch) to prefix-(i*batch+batch-1), so every item
// of a run creates a customer.
func upsertCustomers(prefix string, batch, i int) request {
	var b strings.Builder
	b.Grow(batch * 560)
	b.WriteString(`<crm:UpsertCustomers>`)
	for k := range batch {
		n := i*batch + k
		b.WriteString(`<crm:customer><crm:externalId>`)
		b.WriteString(prefix)
		b.WriteString(strconv.Itoa(n))
		b.WriteString(`</crm:externalId>`)
		b.WriteString(strings.TrimPrefix(customerXML(n), `<crm:customer>`))
	}
	b.WriteString(`</crm:UpsertCustomers>`)
	return request{actionUpsertMany, envelope(b.String())}
}

// bulkRuns numbers the bulk runs of this process, so that each uses externalIds of its own.
var bulkRuns atomic.Int64

// bulkScenario is sc with its generator for one run of batch items per call.
func bulkScenario(sc scenario, batch int) scenario {
	prefix := fmt.Sprintf("bench%d-%s-", bulkRuns.Add(1), time.Now().UTC().Format("150405"))
	sc.gen = func(_ []int64, i int) request { return upsertCustomers(prefix, batch, i) }
	sc.check = checkSaveResults(batch)
	return sc
}

var (
	successTrue  = []byte("<success>true</success>")
	successFalse = []byte("<success>false</success>")
)

// checkSaveResults fails an answer that does not hold batch results, all successful.
func checkSaveResults(batch int) func([]byte) error {
	return func(body []byte) error {
		ok, failed := bytes.Count(body, successTrue), bytes.Count(body, successFalse)
		if ok == batch && failed == 0 {
			return nil
		}
		first := body
		if i := bytes.Index(body, successFalse); i >= 0 {
			first = body[i:]
		}
		return fmt.Errorf("%d of %d items succeeded, %d failed: %.300s", ok, batch, failed, first)
	}
}

// getChanges is a GetChanges call after cursor ("": from the beginning).
func getChanges(cursor string, maxChanges int) request {
	c := ""
	if cursor != "" {
		c = `<crm:cursor>` + cursor + `</crm:cursor>`
	}
	return request{actionChanges, envelope(`<crm:GetChanges>` + c + `<crm:maxChanges>` + strconv.Itoa(maxChanges) +
		`</crm:maxChanges></crm:GetChanges>`)}
}

// searchCustomers asks for a page of pageSize customers, without a filter, after token ("": the first page).
func searchCustomers(token string, pageSize int) request {
	t := ""
	if token != "" {
		t = `<crm:pageToken>` + token + `</crm:pageToken>`
	}
	return request{actionSearch, envelope(`<crm:SearchCustomers><crm:pageSize>` + strconv.Itoa(pageSize) +
		`</crm:pageSize>` + t + `</crm:SearchCustomers>`)}
}

// What the answers of crmsoap serve look like (its elements are in the default namespace, unprefixed):
// plain byte searches, because a regular expression over a 4 MB feed page costs the reader more CPU
// than the server spends on it.
var (
	changeOpen   = []byte("<change>")
	customerOpen = []byte("<customer>")
	hasMoreTrue  = []byte("<hasMore>true</hasMore>")
)

// lastElement is the text of the last element named tag in body (a trailer such as nextCursor), nil if none.
func lastElement(body []byte, tag string) []byte {
	open := []byte("<" + tag + ">")
	i := bytes.LastIndex(body, open)
	if i < 0 {
		return nil
	}
	rest := body[i+len(open):]
	j := bytes.IndexByte(rest, '<')
	if j < 0 {
		return nil
	}
	return rest[:j]
}

// checkPage fails a SearchCustomers answer that does not hold n customers.
func checkPage(n int) func([]byte) error {
	return func(body []byte) error {
		if got := bytes.Count(body, customerOpen); got != n {
			return fmt.Errorf("page of %d customers, want %d: %.300s", got, n, body)
		}
		return nil
	}
}

// recordStats is what a bulk or feed row moved besides requests.
type recordStats struct {
	unit              string  // "records" or "changes"
	count             int64   // in the timed window
	perCall           float64 // items per request
	target            float64 // per second; 0: none
	rssStart, rssPeak int64   // the server's VmRSS before the window and VmHWM after it, kB; 0 unknown
}

// runBulk runs a bulk scenario once at conns: unsigned bodies are built as they
// are sent (a ring of 0.5 MB bodies would not fit), signed ones pre-signed.
func (m *Main) runBulk(ctx context.Context, cfg *config, env *environment, sc scenario, conns int) (reportRow, error) {
	sc = bulkScenario(sc, cfg.batch)
	t, ids := env.open, env.openIDs
	if sc.signed {
		t, ids = env.secure, env.secureIDs
	}
	rssStart, _ := procStatusKB(t.pid, "VmRSS")
	var row reportRow
	var err error
	if sc.signed {
		row, err = m.runSigned(ctx, cfg, env, t, ids, sc, conns)
	} else {
		m.progress("%s at %d conns: %s warm-up, %s timed", sc.id, conns, cfg.warmup, cfg.duration)
		src := &source{gen: func(i int) request { return sc.gen(nil, i) }, check: sc.check}
		var run *result
		run, err = load(ctx, env.tr, t.withProfile(cfg.profileDir, sc.id, conns), src, conns, cfg.warmup, cfg.duration)
		if err == nil {
			m.reportProfileErr(run)
			row = reportRow{conns: conns, run: run}
		}
	}
	if err != nil || row.run == nil {
		return row, err
	}
	target := float64(targetBulkUnsigned)
	if sc.signed {
		target = targetBulkSigned
	}
	peak, _ := procStatusKB(t.pid, "VmHWM")
	row.recs = &recordStats{unit: "records", count: (row.run.requests - row.run.errors) * int64(cfg.batch),
		perCall: float64(cfg.batch), target: target, rssStart: rssStart, rssPeak: peak}
	return row, nil
}

// bulkConns is the concurrency of the bulk scenarios at the --conns level conns.
func (c *config) bulkConns(conns int) int { return min(conns, c.batchConns) }
