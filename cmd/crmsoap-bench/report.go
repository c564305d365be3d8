package main

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// writeReport writes the Markdown report: machine, command, table, notes.
func writeReport(w io.Writer, cfg *config, env *environment, rows []reportRow, pairs []pairRow) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "### crmsoap-bench, %s\n\n", time.Now().UTC().Format(time.DateOnly))
	fmt.Fprintf(bw, "- Machine: %d CPUs (nproc), %s, Linux %s, %s\n", runtime.NumCPU(), cpuModel(), kernel(), runtime.Version())
	fmt.Fprintf(bw, "- Load average before the run: %s (other work on the machine skews every number)\n", cfg.loadBefore)
	fmt.Fprintf(bw, "- Command: `crmsoap-bench %s`\n", strings.Join(shellQuote(cfg.args), " "))
	if rev := revision(env.serverBin); rev != "" {
		fmt.Fprintf(bw, "- Code: %s\n", rev)
	}
	if cfg.url != "" {
		fmt.Fprintf(bw, "- Target: %s (server CPU not measurable: n/a); ceiling C: a child process on this machine\n", cfg.url)
	} else {
		backend := "temporary SQLite databases"
		switch {
		case cfg.postgres != "":
			backend = "fresh PostgreSQL databases (--postgres)"
		case env.pg != nil:
			backend = "temporary SQLite databases and, beside them, fresh PostgreSQL databases (--beside-postgres)"
		}
		fmt.Fprintf(bw, "- Servers: `crmsoap serve` child processes on 127.0.0.1, %s of %d customers each; "+
			"unsigned scenarios against `--insecure-no-auth`, signed ones against a server checking signatures\n", backend, cfg.customers)
	}
	fmt.Fprintf(bw, "- Ceiling C: bare net/http handler in a child process, reads the body, returns a canned %d-byte GetCustomer response\n", env.canned)
	if env.signer != nil {
		fmt.Fprintf(bw, "- Signed requests: %s, BinarySecurityToken, exclusive c14n, Body and Timestamp signed; "+
			"every envelope distinct, all signed before the timed window\n", env.keyDesc)
	}
	fmt.Fprintf(bw, "- Each run: %s warm-up (signed: rate calibration), then %s timed; latency from request sent to response read\n",
		cfg.warmup, cfg.duration)
	if env.bigSeed != "" {
		fmt.Fprintf(bw, "- Feed and search scenarios: a third server (`--insecure-no-auth`) on a database of %s\n", env.bigSeed)
	}
	fmt.Fprintln(bw)

	fmt.Fprintln(bw, "| scenario | conns | req/s | fraction of C | p50 | p95 | p99 | errors | CPU s/1k req | generator CPU s/1k req |")
	fmt.Fprintln(bw, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		if r.run == nil {
			fmt.Fprintf(bw, "| %s | %d | – | – | – | – | – | – | – | – |\n", r.title, r.conns)
			continue
		}
		h := &r.run.hist
		frac := "–" // also for bulk and feed calls: not comparable with C's one-record requests
		if r.ceiling > 0 {
			frac = fmt.Sprintf("%.2f", r.rate()/r.ceiling)
		}
		fmt.Fprintf(bw, "| %s | %d | %.0f | %s | %s | %s | %s | %d | %s | %s |\n", r.title, r.conns, r.rate(), frac,
			formatMs(h.quantile(0.50)), formatMs(h.quantile(0.95)), formatMs(h.quantile(0.99)), r.run.errors,
			perK(r.run.serverCPU, r.run.requests), perK(r.run.clientCPU, r.run.requests))
	}
	writeRecords(bw, rows)
	if len(pairs) > 0 {
		writePairs(bw, cfg, env, pairs)
	}
	notes := reportNotes(rows)
	if len(notes) > 0 {
		fmt.Fprintln(bw)
		for _, n := range notes {
			fmt.Fprintf(bw, "- %s\n", n)
		}
	}
	return bw.Flush()
}

func reportNotes(rows []reportRow) []string {
	var notes, skipped []string
	skippedBy := map[string][]string{} // reason -> scenarios
	for _, r := range rows {
		switch {
		case r.run == nil:
			if skippedBy[r.note] == nil {
				skipped = append(skipped, r.note)
			}
			if t := skippedBy[r.note]; len(t) == 0 || t[len(t)-1] != r.title {
				skippedBy[r.note] = append(t, r.title)
			}
		case r.note != "":
			notes = append(notes, fmt.Sprintf("%s at %d conns: %s", r.title, r.conns, r.note))
		}
		if r.run != nil && r.run.errors > 0 {
			notes = append(notes, fmt.Sprintf("%s at %d conns: %d errors, the first: %.300s", r.title, r.conns, r.run.errors, oneLine(r.run.firstErr)))
		}
	}
	for _, reason := range skipped {
		notes = append(notes, fmt.Sprintf("%s: %s", strings.Join(unique(skippedBy[reason]), ", "), reason))
	}
	return notes
}

func unique(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func formatMs(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func perK(cpu float64, requests int64) string {
	if cpu < 0 || requests == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", cpu/float64(requests)*1000)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func shellQuote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

// revision names the code measured: the VCS stamp of the server binary bin
// (of this one with --url, bin ""), else the git commit of the working
// directory (go run does not stamp), "" when unknown.
func revision(bin string) string {
	bi, ok := debug.ReadBuildInfo()
	if bin != "" {
		var err error
		bi, err = buildinfo.ReadFile(bin)
		ok = err == nil
	}
	if ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = " with uncommitted changes"
				}
			}
		}
		if rev != "" {
			return "commit " + rev[:min(12, len(rev))] + dirty
		}
	}
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := "commit " + strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += " with uncommitted changes"
	}
	return rev
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// writePairs writes the side-by-side table: each side's median over its alternating windows.
func writePairs(w io.Writer, cfg *config, env *environment, pairs []pairRow) {
	if env.pg != nil {
		writeBesidePostgres(w, cfg, env, pairs)
		return
	}
	fmt.Fprintf(w, "\nSide by side with %s (`%s`", cfg.peerName, cfg.peerCmd)
	if cfg.peerSignedCmd != "" {
		fmt.Fprintf(w, "; signed: `%s`", cfg.peerSignedCmd)
	}
	fmt.Fprintf(w, "): %d windows per side, alternating which goes first; medians.\n\n", cfg.pairs)
	fmt.Fprintf(w, "| scenario | conns | crmsoap req/s | %s req/s | ratio | crmsoap CPU us/req | %s CPU us/req | windows (req/s) |\n", cfg.peerName, cfg.peerName)
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, p := range pairs {
		if len(p.runs[0]) == 0 || len(p.runs[1]) == 0 {
			fmt.Fprintf(w, "| %s | %d | – | – | – | – | – | %s |\n", p.title, p.conns, p.note)
			continue
		}
		a, acpu := medianRate(p.runs[0])
		b, bcpu := medianRate(p.runs[1])
		ratio := "–"
		if b > 0 {
			ratio = fmt.Sprintf("%.2fx", a/b)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %s | %s | %s | %s |\n", p.title, p.conns, a, b, ratio,
			micros(acpu), micros(bcpu), windowRates(p.runs))
	}
}

func micros(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", v)
}

// windowRates lists every window's rate, crmsoap's then the peer's, for a reader to judge the spread.
func windowRates(runs [2][]*result) string {
	var parts [2][]string
	for s := range runs {
		for _, r := range runs[s] {
			if r.elapsed > 0 {
				parts[s] = append(parts[s], fmt.Sprintf("%.0f", float64(r.requests)/r.elapsed.Seconds()))
			}
		}
	}
	return strings.Join(parts[0], ", ") + " / " + strings.Join(parts[1], ", ")
}

// writeRecords writes the bulk and feed rows again with the records they moved:
// records (or changes) per second = calls per second × records per call.
func writeRecords(w io.Writer, rows []reportRow) {
	first := true
	for _, r := range rows {
		if r.recs == nil || r.run == nil || r.run.elapsed <= 0 {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nBulk and feed calls, by the records they carry (only calls without errors count):")
			fmt.Fprintln(w)
			fmt.Fprintln(w, "| scenario | conns | calls/s | records per call | records/s | target | server RSS before / peak |")
			fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
			first = false
		}
		rec := r.recs
		target := "–"
		if rec.target > 0 {
			target = fmt.Sprintf("%.0f", rec.target)
		}
		fmt.Fprintf(w, "| %s | %d | %.2f | %.0f | %.0f %s/s | %s | %s / %s |\n", r.title, r.conns, r.rate(), rec.perCall,
			float64(rec.count)/r.run.elapsed.Seconds(), rec.unit, target, mb(rec.rssStart), mb(rec.rssPeak))
	}
}

// oneLine is an error's text on one Markdown line, without the answer's XML declaration.
func oneLine(s string) string {
	s = strings.Replace(s, `<?xml version="1.0" encoding="UTF-8"?>`, "", 1)
	return strings.Join(strings.Fields(s), " ")
}
