package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
)

// TestImportExport_Signed imports a generated file of several batches into a
// server that checks signatures and signs its answers, exports it back and
// compares the two files row by row.
func TestImportExport_Signed(t *testing.T) {
	filesRoundTrip(t, 2500)
}

// TestImportExport_Bench is the measured round trip (not in make test):
// CRMSOAP_FILES_BENCH=100000 [CRMSOAP_FILES_PARALLEL=N] go test -run TestImportExport_Bench -v ./cmd/crmsoap
func TestImportExport_Bench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CRMSOAP_FILES_BENCH"))
	if n <= 0 {
		t.Skip("set CRMSOAP_FILES_BENCH=N to import and export N generated customers")
	}
	// Measure the binary as shipped, not the race-detector build of the tests.
	fast := filepath.Join(t.TempDir(), "crmsoap")
	if out, err := exec.Command("go", "build", "-o", fast, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	raceBuild := binary
	binary = fast
	t.Cleanup(func() { binary = raceBuild })
	filesRoundTrip(t, n)
}

func filesRoundTrip(t *testing.T, n int) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	erp, server := newIdentity(t, dir, "erp", time.Hour), newIdentity(t, dir, "server", time.Hour)
	if out, err := run(t, "clients", "add", "--db", db, "--name", "erp", "--cert", erp.certPEM); err != nil {
		t.Fatalf("clients add: %v\n%s", err, out)
	}
	srv := startServer(t, db, "--sign-key", server.keyPEM, "--sign-cert", server.certPEM)
	signed := []string{"--url", srv.URL, "--key", erp.keyPEM, "--cert", erp.certPEM, "--server-cert", server.certPEM,
		"--entity", "customers"}

	in := filepath.Join(dir, "in.csv")
	writeCustomersCSV(t, in, n)
	// Unsigned requests are refused: the file goes through the front door.
	if _, stderr, err := runCmd(t, "import", "--url", srv.URL, "--entity", "customers", "--format", "csv", in); err == nil ||
		!strings.Contains(stderr, "UNAUTHORIZED") {
		t.Fatalf("unsigned import: %v\n%s", err, stderr)
	}
	importArgs := append(append([]string{"import"}, signed...), "--format", "csv")
	if p := os.Getenv("CRMSOAP_FILES_PARALLEL"); p != "" {
		importArgs = append(importArgs, "--parallel", p)
	}
	pid := srv.cmd.Process.Pid
	cpu0 := procCPU(t, pid)
	imp := measure(t, append(importArgs, in)...)
	cpu1 := procCPU(t, pid)
	if !strings.Contains(imp.stderr, fmt.Sprintf("%d sent, %d created, 0 refused", n, n)) {
		t.Fatalf("import: %s", imp.stderr)
	}
	out := filepath.Join(dir, "out.jsonl")
	exp := measure(t, append(append([]string{"export"}, signed...), "--format", "jsonl", "--out", out)...)
	cpu2 := procCPU(t, pid)
	if !strings.HasPrefix(exp.stderr, fmt.Sprintf("exported %d rows", n)) {
		t.Fatalf("export: %s", exp.stderr)
	}
	compareFiles(t, in, out)
	outCSV := filepath.Join(dir, "out.csv")
	expCSV := measure(t, append(append([]string{"export"}, signed...), "--format", "csv", "--out", outCSV)...)
	if !strings.HasPrefix(expCSV.stderr, fmt.Sprintf("exported %d rows", n)) {
		t.Fatalf("export as CSV: %s", expCSV.stderr)
	}
	compareFilesAs(t, in, outCSV, records.CSV)
	t.Logf("%d customers, signed: import %.0f records/s (%s, CPU %s, server CPU %s, peak RSS %d MiB), "+
		"export %.0f records/s (%s, CPU %s, server CPU %s, peak RSS %d MiB), server peak RSS %d MiB",
		n, float64(n)/imp.took.Seconds(), imp.took.Round(time.Millisecond), imp.cpu.Round(time.Millisecond),
		cpu1-cpu0, imp.maxRSS>>20, float64(n)/exp.took.Seconds(), exp.took.Round(time.Millisecond),
		exp.cpu.Round(time.Millisecond), cpu2-cpu1, exp.maxRSS>>20, vmHWM(t, pid)>>20)
	t.Logf("export as CSV: %.0f records/s (%s, CPU %s, peak RSS %d MiB)", float64(n)/expCSV.took.Seconds(),
		expCSV.took.Round(time.Millisecond), expCSV.cpu.Round(time.Millisecond), expCSV.maxRSS>>20)
}

type measured struct {
	stderr string
	took   time.Duration
	maxRSS int64 // bytes
	cpu    time.Duration
}

// measure runs the binary and reports its wall time and peak resident memory.
func measure(t *testing.T, args ...string) measured {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", args[0], err)
	}
	// The peak RSS is sampled from /proc while the command runs: the rusage of a child started by this
	// process reports at least this (large) test process's own peak, which Linux carries over exec.
	var peak atomic.Int64
	sampled := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if hwm := procHWM(cmd.Process.Pid); hwm > peak.Load() {
				peak.Store(hwm)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	<-sampled
	if err != nil {
		t.Fatalf("%s: %v\n%s", args[0], err, stderr.String())
	}
	m := measured{stderr: stderr.String(), took: time.Since(start), maxRSS: peak.Load()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return m
}

// procHWM is VmHWM of a running process in bytes (0 once it is gone).
func procHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return hwmOf(string(b))
}

// procCPU is the user+system CPU time a running process has used so far.
func procCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name in parentheses: state is field 3, utime 14, stime 15 (clock ticks of 10 ms).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// vmHWM is the peak resident memory of a running process, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	return hwmOf(string(b))
}

// hwmOf reads VmHWM from the text of /proc/PID/status, in bytes.
func hwmOf(status string) int64 {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// writeCustomersCSV writes n customers with every writable field filled: Chinese, emoji, quotes and
// commas (no line breaks: a customer's fields refuse control characters).
func writeCustomersCSV(t *testing.T, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "externalId,name,email,phone,gender,birthDate,company,address.street,address.city,address.region,address.postalCode,address.country")
	genders := []string{"MALE", "FEMALE", "OTHER", ""}
	for i := range n {
		fmt.Fprintf(w, "ERP-%07d,\"客户 %d 😀, \"\"Ltd\"\"\",c%d@example.com,+49 30 %07d,%s,19%02d-%02d-%02d,\"Firma %d, GmbH\",Straße %d,Berlin,BE,%05d,DE\n",
			i, i, i, i, genders[i%4], 50+i%50, 1+i%12, 1+i%28, i%97, i, i%100000)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
}

// compareFiles compares every writable field of the generated CSV with the
// exported JSON Lines, by externalId (see compareFilesAs).
func compareFiles(t *testing.T, csvPath, jsonlPath string) {
	compareFilesAs(t, csvPath, jsonlPath, records.JSONL)
}

// compareFilesAs compares every writable field of the generated CSV with the
// exported file of format outFormat, by externalId: batches in flight at once may
// commit out of file order. (The test holds the input in memory; the commands do not.)
func compareFilesAs(t *testing.T, csvPath, outPath string, outFormat records.Format) {
	open := func(p string, f records.Format) records.Reader {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fh.Close() })
		r, err := records.NewReader(f, &customersFile.Entity, fh)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	want := map[string]string{}
	for r := open(csvPath, records.CSV); ; {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want[row.Values[cExternalID]] = strings.Join(row.Values[cExternalID:], "|")
	}
	n := len(want)
	for r := open(outPath, outFormat); ; {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		key, got := row.Values[cExternalID], strings.Join(row.Values[cExternalID:], "|")
		if want[key] != got {
			t.Fatalf("line %d differs:\n in %s\nout %s", row.Line, want[key], got)
		}
		delete(want, key)
	}
	if len(want) > 0 {
		t.Fatalf("%d of %d customers missing from the export", len(want), n)
	}
}
