package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A peer is another SOAP server of the same contract (for example the gSOAP build in
// ../shared/peers/gsoap), measured side by side with crmsoap: the same scenarios, client, request
// bodies and database size, in alternating windows (crmsoap then peer, peer then crmsoap, ...) so that
// drift of the machine falls on both alike.
//
// --peer-cmd and --peer-signed-cmd are command lines with placeholders: {port} (a free loopback port
// the peer must listen on), {db} (a database file in the run's directory, shared by both peer
// commands) and {ca} (a PEM file holding the generator's client certificate, for the signed peer to
// trust). The peer answers SOAP at /soap (or any path).

// peerSide is one side of a pair: crmsoap or the peer.
type peerSide struct {
	name      string
	open      *target
	secure    *target
	openIDs   []int64
	secureIDs []int64
}

func (s *peerSide) targetFor(sc scenario) (*target, []int64) {
	if sc.signed {
		return s.secure, s.secureIDs
	}
	return s.open, s.openIDs
}

// pairRow is one scenario at one concurrency measured in alternating windows on both sides.
type pairRow struct {
	title string
	conns int
	runs  [2][]*result // [0] crmsoap, [1] peer
	note  string
}

// setupPeer starts the peer commands and creates the same number of customers through the plain one.
func (m *Main) setupPeer(ctx context.Context, cfg *config, env *environment, certDER []byte) error {
	db := filepath.Join(env.dir, "peer.db")
	ca := filepath.Join(env.dir, "client-cert.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o600); err != nil {
		return err
	}
	peer := &peerSide{name: cfg.peerName}
	start := func(name, cmdline string) (*target, error) {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		r := strings.NewReplacer("{port}", port, "{db}", db, "{ca}", ca)
		args := strings.Fields(r.Replace(cmdline))
		addr := "127.0.0.1:" + port
		c, err := startOnce(name, args[0], args[1:], addr)
		if err != nil {
			return nil, err
		}
		c.signalExitOK = true
		env.children = append(env.children, c)
		m.progress("%s: %s on %s (pid %d)", name, strings.Join(args, " "), addr, c.pid())
		return &target{url: &url.URL{Scheme: "http", Host: addr, Path: soapPath}, pid: c.pid()}, nil
	}
	var err error
	if peer.open, err = start(cfg.peerName, cfg.peerCmd); err != nil {
		return err
	}
	m.progress("creating %d customers on %s", cfg.customers, cfg.peerName)
	if peer.openIDs, err = env.createCustomersOn(ctx, peer.open, nil, cfg.customers); err != nil {
		return fmt.Errorf("%s: %w", cfg.peerName, err)
	}
	peer.secureIDs = peer.openIDs
	if cfg.peerSignedCmd != "" && cfg.signedWanted() {
		if peer.secure, err = start(cfg.peerName+"-signed", cfg.peerSignedCmd); err != nil {
			return err
		}
	}
	env.peer = peer
	return nil
}

// runPairs measures sc at conns on crmsoap and on the peer, cfg.pairs times each, alternating the order.
func (m *Main) runPairs(ctx context.Context, cfg *config, env *environment, sc scenario, conns int) (pairRow, error) {
	row := pairRow{title: sc.title, conns: conns}
	crm := &peerSide{name: env.selfName, open: env.open, secure: env.secure, openIDs: env.openIDs, secureIDs: env.secureIDs}
	sides := [2]*peerSide{crm, env.peer}
	for i := range sides {
		if t, _ := sides[i].targetFor(sc); t == nil {
			row.note = sides[i].name + " has no server for this scenario"
			return row, nil
		}
	}
	for p := 0; p < cfg.pairs; p++ {
		order := []int{0, 1}
		if p%2 == 1 {
			order = []int{1, 0}
		}
		for _, s := range order {
			t, ids := sides[s].targetFor(sc)
			m.progress("pair %d/%d: %s", p+1, cfg.pairs, sides[s].name)
			var r reportRow
			var err error
			if sc.signed {
				r, err = m.runSigned(ctx, cfg, env, t, ids, sc, conns)
			} else {
				r, err = m.runUnsigned(ctx, cfg, env, t, sc, ids, conns)
			}
			if err != nil {
				return row, err
			}
			if r.note != "" {
				row.note = sides[s].name + ": " + r.note
			}
			row.runs[s] = append(row.runs[s], r.run)
		}
	}
	return row, nil
}

// medianRate is the median requests/s of runs, and the median server CPU microseconds per request
// (negative when unknown).
func medianRate(runs []*result) (rate, cpuMicros float64) {
	rate = medianPer(runs, func(r *result) float64 { return float64(r.requests) / r.elapsed.Seconds() })
	return max(rate, 0), medianPer(runs, func(r *result) float64 { return perRequest(r.serverCPU, r) * 1e6 })
}

// medianPer is the median of v over the runs that did requests, skipping negative (unknown) values;
// -1 when none is known.
func medianPer(runs []*result, v func(*result) float64) float64 {
	vals := make([]float64, 0, len(runs))
	for _, r := range runs {
		if r.elapsed <= 0 || r.requests == 0 {
			continue
		}
		if x := v(r); x >= 0 {
			vals = append(vals, x)
		}
	}
	if len(vals) == 0 {
		return -1
	}
	return median(vals)
}

// perRequest is total (seconds, round trips) per request of r; negative when total is unknown.
func perRequest(total float64, r *result) float64 {
	if total < 0 {
		return -1
	}
	return total / float64(r.requests)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (c *config) checkPeer() error {
	switch {
	case c.peerCmd == "" && c.peerSignedCmd != "":
		return errors.New("--peer-signed-cmd needs --peer-cmd (the plain peer creates the customers)")
	case c.peerCmd != "" && c.url != "":
		return errors.New("--peer-cmd works with started servers only")
	case c.pairs < 1:
		return errors.New("--pairs must be at least 1")
	}
	if c.peerCmd != "" && !strings.Contains(c.peerCmd, "{port}") {
		return errors.New("--peer-cmd must contain {port}: the peer listens where the generator says")
	}
	if c.peerSignedCmd != "" && !strings.Contains(c.peerSignedCmd, "{port}") {
		return errors.New("--peer-signed-cmd must contain {port}")
	}
	return nil
}
