package main

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A peer command runs side by side: crmsoap itself stands in for the peer here, started from the
// template with the port and database the generator chooses; each side gets --pairs windows.
func TestRun_Peer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them for several seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	peerCmd := serverBin + " serve --insecure-no-auth --log-level warn --addr 127.0.0.1:{port} --db {db}"
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, benchBin, "--customers", "30", "--conns", "2", "--duration", "300ms",
		"--warmup", "100ms", "--scenarios", "get,add", "--pairs", "3", "--peer-name", "twin", "--peer-cmd", peerCmd)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("crmsoap-bench: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "creating 30 customers on twin") {
		t.Errorf("the peer was not seeded through SOAP:\n%s", errOut.String())
	}
	rows := pairRows(t, out.String())
	for _, title := range []string{"GetCustomer unsigned", "AddCustomer unsigned (durable write)"} {
		cells, ok := rows[title]
		if !ok {
			t.Fatalf("no side-by-side row %q in\n%s", title, out.String())
		}
		a, _ := strconv.ParseFloat(cells[2], 64)
		b, _ := strconv.ParseFloat(cells[3], 64)
		ratio, err := strconv.ParseFloat(strings.TrimSuffix(cells[4], "x"), 64)
		if a <= 0 || b <= 0 || err != nil || ratio <= 0 {
			t.Errorf("%s: crmsoap %s, twin %s, ratio %s: want two rates and their ratio\n%s", title, cells[2], cells[3], cells[4], out.String())
		}
		if cells[5] == "n/a" || cells[6] == "n/a" {
			t.Errorf("%s: server CPU unknown for a child server: %v", title, cells)
		}
		sides := strings.Split(cells[7], " / ")
		if len(sides) != 2 || len(strings.Split(sides[0], ", ")) != 3 || len(strings.Split(sides[1], ", ")) != 3 {
			t.Errorf("%s: windows %q, want 3 per side", title, cells[7])
		}
	}
	if strings.Contains(errOut.String(), "signal: terminated") {
		t.Errorf("stopping the peer was reported as an error:\n%s", errOut.String())
	}
}

func TestCheckPeer(t *testing.T) {
	for _, args := range [][]string{
		{"--peer-signed-cmd", "x {port}"},
		{"--peer-cmd", "peer -d {db}"},
		{"--peer-cmd", "peer {port}", "--pairs", "0"},
		{"--peer-cmd", "peer {port}", "--url", "http://127.0.0.1:1/soap"},
	} {
		var stderr bytes.Buffer
		if _, err := (&Main{Stderr: &stderr}).parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

// pairRows parses the side-by-side table of a report by scenario title.
func pairRows(tb testing.TB, report string) map[string][]string {
	tb.Helper()
	_, table, ok := strings.Cut(report, "Side by side with ")
	if !ok {
		tb.Fatalf("no side-by-side table in\n%s", report)
	}
	return markdownRows(tb, table, 8)
}
