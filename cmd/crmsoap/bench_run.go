package main

import (
	"context"
	"fmt"
	"time"
)

// benchScenario is one kind of load.
type benchScenario struct {
	id, title string
	signed    bool
	gen       func(ids []int64, i int) benchReq // request number i
}

// benchPick spreads request numbers over the customers.
func benchPick(ids []int64, i int) int64 { return ids[(i*7919)%len(ids)] }

var benchScenarios = []benchScenario{
	{"get", "GetCustomer unsigned", false, func(ids []int64, i int) benchReq { return benchGet(benchPick(ids, i)) }},
	{"add", "AddCustomer unsigned (durable write)", false, func(_ []int64, i int) benchReq { return benchAdd(i) }},
	{"get-signed", "GetCustomer signed", true, func(ids []int64, i int) benchReq { return benchGet(benchPick(ids, i)) }},
	{"add-signed", "AddCustomer signed", true, func(_ []int64, i int) benchReq { return benchAdd(i) }},
	{"update-signed", "UpdateCustomer signed", true, func(ids []int64, i int) benchReq { return benchUpdate(benchPick(ids, i), i) }},
	{"mix-signed", "mix 80% read / 20% write, signed", true, benchMix},
}

// benchMix: of every 10 requests, 8 GetCustomer, 1 AddCustomer, 1 UpdateCustomer.
func benchMix(ids []int64, i int) benchReq {
	switch i % 10 {
	case 8:
		return benchAdd(i)
	case 9:
		return benchUpdate(benchPick(ids, i), i)
	}
	return benchGet(benchPick(ids, i))
}

// benchRow is one line of the report.
type benchRow struct {
	id, title string
	conns     int
	run       *benchRun // nil when skipped
	note      string    // why skipped, or what to know about the run
	ceiling   float64   // C at this concurrency, requests per second
}

func (r *benchRow) rate() float64 {
	if r.run == nil || r.run.elapsed <= 0 {
		return 0
	}
	return float64(r.run.requests) / r.run.elapsed.Seconds()
}

// benchRing is the number of distinct bodies an unsigned scenario cycles through.
const benchRing = 4096

// benchRunAll measures the ceiling, then every chosen scenario, at each concurrency.
func (m *Main) benchRunAll(ctx context.Context, cfg *benchConfig, env *benchEnv) ([]benchRow, error) {
	var rows []benchRow
	for _, conns := range cfg.conns {
		ceilSc := benchScenario{id: "ceiling", gen: benchScenarios[0].gen}
		ceil, err := m.benchUnsigned(ctx, cfg, env, env.ceiling, ceilSc, env.openOrSecureIDs(), conns)
		if err != nil {
			return nil, err
		}
		ceil.id, ceil.title = "ceiling", "ceiling C: bare net/http, canned response"
		c := ceil.rate()
		ceil.ceiling = c
		rows = append(rows, ceil)
		for _, sc := range benchScenarios {
			if !cfg.scenarios[sc.id] {
				continue
			}
			var row benchRow
			switch {
			case sc.signed && env.secure == nil:
				row = benchRow{note: env.secureNote}
			case !sc.signed && env.open == nil:
				row = benchRow{note: env.openNote}
			case sc.signed:
				row, err = m.benchSigned(ctx, cfg, env, sc, conns)
			default:
				row, err = m.benchUnsigned(ctx, cfg, env, env.open, sc, env.openIDs, conns)
			}
			if err != nil {
				return nil, err
			}
			row.id, row.title, row.conns, row.ceiling = sc.id, sc.title, conns, c
			rows = append(rows, row)
			m.benchLogs(env)
		}
	}
	return rows, nil
}

func (e *benchEnv) openOrSecureIDs() []int64 {
	if e.openIDs != nil {
		return e.openIDs
	}
	return e.secureIDs
}

// benchUnsigned cycles over a ring of prepared bodies: warm-up, then the timed window.
func (m *Main) benchUnsigned(ctx context.Context, cfg *benchConfig, env *benchEnv, t *benchTarget, sc benchScenario, ids []int64, conns int) (benchRow, error) {
	src := &benchSource{reqs: make([]benchReq, benchRing), cycle: true}
	for i := range src.reqs {
		src.reqs[i] = sc.gen(ids, i)
	}
	m.benchProgress("%s at %d conns: %s warm-up, %s timed", sc.id, conns, cfg.warmup, cfg.duration)
	run, err := benchLoad(ctx, env.tr, t.withProfile(cfg.profileDir, sc.id, conns), src, conns, cfg.warmup, cfg.duration)
	if err != nil {
		return benchRow{}, err
	}
	m.benchProfileErr(run)
	return benchRow{conns: conns, run: run}, nil
}

// benchSigned pre-signs before each timed window: a calibration batch that also
// warms up and measures the rate, then enough envelopes for the window at 1.5
// times that rate (the warm-up rate includes connection set-up and cold caches) (at most --max-signed). Signing costs ~1 ms of CPU per RSA
// envelope, which must not be charged to the server.
func (m *Main) benchSigned(ctx context.Context, cfg *benchConfig, env *benchEnv, sc benchScenario, conns int) (benchRow, error) {
	offset := 0
	sign := func(n int) ([]benchReq, error) {
		start := time.Now()
		reqs, err := benchSign(ctx, env.signer, n, func(i int) benchReq { return sc.gen(env.secureIDs, offset+i) })
		offset += n
		m.benchProgress("%s at %d conns: signed %d envelopes in %s", sc.id, conns, n, time.Since(start).Round(time.Millisecond))
		return reqs, err
	}
	var rate float64
	var unused []benchReq // signed for the warm-up but not sent: still fresh, and never seen by the server
	if cfg.warmup > 0 {
		// Enough for the warm-up at 3,000 signed requests/s; a faster server runs out early, which still
		// gives its rate.
		reqs, err := sign(min(cfg.maxSigned, max(200, 2*conns, int(cfg.warmup.Seconds()*3000))))
		if err != nil {
			return benchRow{}, err
		}
		src := &benchSource{reqs: reqs}
		warm, err := benchLoad(ctx, env.tr, *env.secure, src, conns, 0, cfg.warmup)
		if err != nil {
			return benchRow{}, err
		}
		rate = float64(warm.requests) / warm.elapsed.Seconds()
		unused = reqs[min(int(src.next.Load()), len(reqs)):]
	}
	n := cfg.maxSigned
	if rate > 0 {
		n = min(cfg.maxSigned, int(rate*cfg.duration.Seconds()*1.5)+2*conns)
	}
	more, err := sign(max(0, n-len(unused)))
	if err != nil {
		return benchRow{}, err
	}
	src := &benchSource{reqs: append(unused, more...)}
	n = len(src.reqs)
	m.benchProgress("%s at %d conns: %s timed", sc.id, conns, cfg.duration)
	run, err := benchLoad(ctx, env.tr, env.secure.withProfile(cfg.profileDir, sc.id, conns), src, conns, 0, cfg.duration)
	if err != nil {
		return benchRow{}, err
	}
	m.benchProfileErr(run)
	row := benchRow{conns: conns, run: run}
	if run.ranOut {
		row.note = fmt.Sprintf("the %d pre-signed envelopes ran out after %s of %s (raise --max-signed)",
			n, run.elapsed.Round(10*time.Millisecond), cfg.duration)
	}
	return row, nil
}

// benchLogs copies the servers' warnings and errors to Stderr.
func (m *Main) benchLogs(env *benchEnv) {
	for _, c := range env.children {
		for _, l := range c.takeLogs() {
			fmt.Fprintf(m.Stderr, "bench: %s: %s\n", c.name, l)
		}
	}
}

func (m *Main) benchProfileErr(run *benchRun) {
	if run.profileErr != nil {
		m.benchProgress("CPU profile: %v", run.profileErr)
	}
}
