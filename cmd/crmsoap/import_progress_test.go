package main

import (
	"bytes"
	"regexp"
	"testing"
	"time"
)

// On a terminal the bar shows count, rate, percentage and ETA; otherwise only
// the summary line is written.
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "imported", 1000)
	p.add(10)
	if buf.Len() != 0 {
		t.Errorf("not a terminal, wrote %q before the end", buf.String())
	}
	p.done("x")
	if !regexp.MustCompile(`^imported 10 rows in \S+ \(\d+ rows/s\); x\n$`).MatchString(buf.String()) {
		t.Errorf("summary %q", buf.String())
	}

	buf.Reset()
	p = newProgress(&buf, "imported", 1000)
	p.tty = true
	p.start = time.Now().Add(-time.Second)
	p.read.Store(250)
	p.add(100)
	if got := buf.String(); !regexp.MustCompile(`^\r\[#{8} {22}\]  25% imported 100 rows, \d+ rows/s, ETA 3s\x1b\[K$`).MatchString(got) {
		t.Errorf("bar %q", got)
	}
	p.add(1) // within 200 ms of the last draw: not redrawn
	if n := bytes.Count(buf.Bytes(), []byte("\r")); n != 1 {
		t.Errorf("%d draws, want 1", n)
	}
}
