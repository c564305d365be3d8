package main

import (
	"context"
	"fmt"
	"time"
)

// scenario is one kind of load.
type scenario struct {
	id, title string
	signed    bool
	gen       func(ids []int64, i int) request // request number i
	kind      scenarioKind
	check     func(body []byte) error // fails an answer with HTTP 200 that is not a success; nil: none
}

// pick spreads request numbers over the customers.
func pick(ids []int64, i int) int64 { return ids[(i*7919)%len(ids)] }

var scenarios = []scenario{
	{"get", "GetCustomer unsigned", false, func(ids []int64, i int) request { return getCustomer(pick(ids, i)) }, kindSingle, nil},
	{"add", "AddCustomer unsigned (durable write)", false, func(_ []int64, i int) request { return addCustomer(i) }, kindSingle, nil},
	{"get-signed", "GetCustomer signed", true, func(ids []int64, i int) request { return getCustomer(pick(ids, i)) }, kindSingle, nil},
	{"add-signed", "AddCustomer signed", true, func(_ []int64, i int) request { return addCustomer(i) }, kindSingle, nil},
	{"update-signed", "UpdateCustomer signed", true, func(ids []int64, i int) request { return updateCustomer(pick(ids, i), i) }, kindSingle, nil},
	{"mix-signed", "mix 80% read / 20% write, signed", true, mix, kindSingle, nil},
	// Opt-in (not in the default --scenarios): the ERP-sync operations.
	{"upsert-bulk", "UpsertCustomers unsigned, %d per call (durable)", false, nil, kindBulk, nil},
	{"upsert-bulk-signed", "UpsertCustomers signed, %d per call", true, nil, kindBulk, nil},
	{"feed", "GetChanges: one reader follows the feed of %d, 5000 per call", false, nil, kindFeed, nil},
	{"search-first", "SearchCustomers first page of 100 (of %d)", false, nil, kindSearch, nil},
	{"search-deep", "SearchCustomers page of 100 at customer %d", false, nil, kindSearch, nil},
	{"order-signed", "PlaceOrder signed, 5 lines over %d products (durable)", true, nil, kindOrder, nil},
	{"order-contended-signed", "PlaceOrder signed, 5 lines from the same %d products", true, nil, kindOrder, nil},
}

// title is the scenario's title in the report, with its size.
func (sc scenario) titleFor(cfg *config) string {
	switch {
	case sc.kind == kindBulk:
		return fmt.Sprintf(sc.title, cfg.batch)
	case sc.id == "search-deep":
		return fmt.Sprintf(sc.title, max(cfg.feedRecords-searchPage, 0))
	case sc.kind == kindFeed || sc.kind == kindSearch:
		return fmt.Sprintf(sc.title, cfg.feedRecords)
	case sc.id == "order-signed":
		return fmt.Sprintf(sc.title, orderProducts)
	case sc.id == "order-contended-signed":
		return fmt.Sprintf(sc.title, contendedProducts)
	}
	return sc.title
}

// mix: of every 10 requests, 8 GetCustomer, 1 AddCustomer, 1 UpdateCustomer.
func mix(ids []int64, i int) request {
	switch i % 10 {
	case 8:
		return addCustomer(i)
	case 9:
		return updateCustomer(pick(ids, i), i)
	}
	return getCustomer(pick(ids, i))
}

// reportRow is one line of the report.
type reportRow struct {
	id, title string
	conns     int
	run       *result      // nil when skipped
	note      string       // why skipped, or what to know about the run
	ceiling   float64      // C at this concurrency, requests per second; 0: not comparable
	recs      *recordStats // bulk and feed rows: the records moved; nil for others
}

func (r *reportRow) rate() float64 {
	if r.run == nil || r.run.elapsed <= 0 {
		return 0
	}
	return float64(r.run.requests) / r.run.elapsed.Seconds()
}

// ringSize is the number of distinct bodies an unsigned scenario cycles through.
const ringSize = 4096

// runAll measures the ceiling, then every chosen scenario, at each concurrency.
// With a peer, each scenario runs in alternating windows on both sides (runPairs): the main table
// shows crmsoap's first window and the pair table every window's median.
func (m *Main) runAll(ctx context.Context, cfg *config, env *environment) ([]reportRow, []pairRow, error) {
	var rows []reportRow
	var pairs []pairRow
	ran := map[string]bool{} // bulk scenario at a concurrency, the feed: run once
	for _, conns := range cfg.conns {
		ceilSc := scenario{id: "ceiling", gen: scenarios[0].gen}
		ceil, err := m.runUnsigned(ctx, cfg, env, env.ceiling, ceilSc, env.openOrSecureIDs(), conns)
		if err != nil {
			return nil, nil, err
		}
		ceil.id, ceil.title = "ceiling", "ceiling C: bare net/http, canned response"
		c := ceil.rate()
		ceil.ceiling = c
		rows = append(rows, ceil)
		for _, sc := range scenarios {
			if !cfg.scenarios[sc.id] {
				continue
			}
			rowConns, comparable := conns, sc.kind == kindSingle // C is one small record per request
			switch sc.kind {
			case kindBulk:
				rowConns = cfg.bulkConns(conns)
			case kindFeed:
				rowConns = 1
			}
			key := fmt.Sprintf("%s@%d", sc.id, rowConns)
			if sc.kind != kindSingle && sc.kind != kindSearch && ran[key] {
				continue
			}
			ran[key] = true
			var row reportRow
			big := sc.kind == kindFeed || sc.kind == kindSearch
			switch {
			case big && env.big == nil:
				row = reportRow{note: env.bigNote}
			case big && sc.kind == kindFeed:
				row, err = m.runFeed(ctx, cfg, env)
			case big:
				row, err = m.runSearch(ctx, cfg, env, sc, conns)
			case sc.signed && env.secure == nil:
				row = reportRow{note: env.secureNote}
			case !sc.signed && env.open == nil:
				row = reportRow{note: env.openNote}
			case sc.kind == kindBulk:
				row, err = m.runBulk(ctx, cfg, env, sc, rowConns)
			case sc.kind == kindOrder:
				row, err = m.runOrders(ctx, cfg, env, sc, conns)
			case env.peer != nil:
				var pr pairRow
				pr, err = m.runPairs(ctx, cfg, env, sc, conns)
				pairs = append(pairs, pr)
				if len(pr.runs[0]) > 0 {
					row = reportRow{run: pr.runs[0][0]}
				}
			case sc.signed:
				row, err = m.runSigned(ctx, cfg, env, env.secure, env.secureIDs, sc, conns)
			default:
				row, err = m.runUnsigned(ctx, cfg, env, env.open, sc, env.openIDs, conns)
			}
			if err != nil {
				return nil, nil, err
			}
			row.id, row.title, row.conns, row.ceiling = sc.id, sc.titleFor(cfg), rowConns, c
			if !comparable {
				row.ceiling = 0
			}
			rows = append(rows, row)
			m.copyLogs(env)
		}
	}
	return rows, pairs, nil
}

func (e *environment) openOrSecureIDs() []int64 {
	if e.openIDs != nil {
		return e.openIDs
	}
	return e.secureIDs
}

// runUnsigned cycles over a ring of prepared bodies: warm-up, then the timed window.
func (m *Main) runUnsigned(ctx context.Context, cfg *config, env *environment, t *target, sc scenario, ids []int64, conns int) (reportRow, error) {
	src := &source{reqs: make([]request, ringSize), cycle: true, check: sc.check}
	for i := range src.reqs {
		src.reqs[i] = sc.gen(ids, i)
	}
	m.progress("%s at %d conns: %s warm-up, %s timed", sc.id, conns, cfg.warmup, cfg.duration)
	run, err := load(ctx, env.tr, t.withProfile(cfg.profileDir, sc.id, conns), src, conns, cfg.warmup, cfg.duration)
	if err != nil {
		return reportRow{}, err
	}
	m.reportProfileErr(run)
	return reportRow{conns: conns, run: run}, nil
}

// runSigned pre-signs before each timed window: a calibration batch that also
// warms up and measures the rate, then enough envelopes for the window at 1.5
// times that rate (the warm-up rate includes connection set-up and cold caches) (at most --max-signed). Signing costs ~1 ms of CPU per RSA
// envelope, which must not be charged to the server.
func (m *Main) runSigned(ctx context.Context, cfg *config, env *environment, t *target, ids []int64, sc scenario, conns int) (reportRow, error) {
	offset := 0
	var perEnvelope time.Duration // signing time of one envelope (all cores), from the first batch
	var size int                  // bytes of one envelope
	sign := func(n int) ([]request, error) {
		start := time.Now()
		reqs, err := signAll(ctx, env.signer, n, func(i int) request { return sc.gen(ids, offset+i) })
		offset += n
		d := time.Since(start)
		if n > 0 && err == nil {
			perEnvelope, size = d/time.Duration(n), len(reqs[0].body)
		}
		m.progress("%s at %d conns: signed %d envelopes in %s", sc.id, conns, n, d.Round(time.Millisecond))
		return reqs, err
	}
	var rate float64
	var unused []request // signed for the warm-up but not sent: still fresh, and never seen by the server
	if cfg.warmup > 0 {
		// Enough for the warm-up at 3,000 signed requests/s (bulk: 40,000 records/s); a faster server
		// runs out early, which still gives its rate.
		want := max(200, 2*conns, int(cfg.warmup.Seconds()*3000))
		if sc.kind == kindBulk {
			want = max(2*conns, int(cfg.warmup.Seconds()*40000)/cfg.batch)
		}
		reqs, err := sign(min(cfg.maxSigned, want))
		if err != nil {
			return reportRow{}, err
		}
		src := &source{reqs: reqs, check: sc.check}
		warm, err := load(ctx, env.tr, *t, src, conns, 0, cfg.warmup)
		if err != nil {
			return reportRow{}, err
		}
		rate = float64(warm.requests) / warm.elapsed.Seconds()
		unused = reqs[min(int(src.next.Load()), len(reqs)):]
	}
	n, limit := cfg.maxSigned, "raise --max-signed"
	if rate > 0 {
		n = min(cfg.maxSigned, int(rate*cfg.duration.Seconds()*1.5)+2*conns)
	}
	// A large envelope (bulk: ~0.5 MB) is slow to sign and big to hold: sign no more than fit in
	// maxSignedBytes and than can be signed and sent before the first one's Timestamp expires.
	if size > 0 && n*size > maxSignedBytes {
		n, limit = maxSignedBytes/size, fmt.Sprintf("limited to %d MB of envelopes", maxSignedBytes>>20)
	}
	if perEnvelope > 0 {
		if fit := int((signedTTL - signMargin - cfg.duration) / perEnvelope); n > fit {
			n, limit = max(fit, len(unused)), "limited by the Timestamp TTL: signing time + --duration"
		}
	}
	more, err := sign(max(0, n-len(unused)))
	if err != nil {
		return reportRow{}, err
	}
	src := &source{reqs: append(unused, more...), check: sc.check}
	n = len(src.reqs)
	m.progress("%s at %d conns: %s timed", sc.id, conns, cfg.duration)
	run, err := load(ctx, env.tr, t.withProfile(cfg.profileDir, sc.id, conns), src, conns, 0, cfg.duration)
	if err != nil {
		return reportRow{}, err
	}
	m.reportProfileErr(run)
	row := reportRow{conns: conns, run: run}
	if run.ranOut {
		row.note = fmt.Sprintf("the %d pre-signed envelopes ran out after %s of %s (%s)",
			n, run.elapsed.Round(10*time.Millisecond), cfg.duration, limit)
	}
	return row, nil
}

// Bounds of the envelopes pre-signed for one window besides --max-signed.
const (
	maxSignedBytes = 1 << 30
	signMargin     = 60 * time.Second // of the TTL, for the warm-up and clock steps
)

// copyLogs copies the servers' warnings and errors to Stderr.
func (m *Main) copyLogs(env *environment) {
	for _, c := range env.children {
		for _, l := range c.takeLogs() {
			fmt.Fprintf(m.Stderr, "bench: %s: %s\n", c.name, l)
		}
	}
}

func (m *Main) reportProfileErr(run *result) {
	if run.profileErr != nil {
		m.progress("CPU profile: %v", run.profileErr)
	}
}
