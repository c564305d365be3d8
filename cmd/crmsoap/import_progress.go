package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// progress reports the rows of an import or export on stderr: a bar redrawn in
// place (count, rate, ETA) when stderr is a terminal, one summary line at the
// end otherwise.
type progress struct {
	w     io.Writer
	verb  string
	tty   bool
	start time.Time
	last  time.Time
	n     int64
	total int64         // bytes of the input, 0 when unknown
	read  *atomic.Int64 // bytes of the input read so far
}

func newProgress(w io.Writer, verb string, total int64) *progress {
	p := &progress{w: w, verb: verb, start: time.Now(), total: total, read: new(atomic.Int64)}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) add(n int) {
	p.n += int64(n)
	if !p.tty {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.draw(now)
	}
}

func (p *progress) rate(now time.Time) float64 {
	s := now.Sub(p.start).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(p.n) / s
}

func (p *progress) draw(now time.Time) {
	line := fmt.Sprintf("%s %d rows, %.0f rows/s", p.verb, p.n, p.rate(now))
	if read := p.read.Load(); p.total > 0 && read > 0 {
		frac := min(float64(read)/float64(p.total), 1)
		const width = 30
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if float64(i) < frac*width {
				bar[i] = '#'
			}
		}
		eta := time.Duration(float64(now.Sub(p.start)) * (1 - frac) / frac).Round(time.Second)
		line = fmt.Sprintf("[%s] %3.0f%% %s, ETA %s", bar, frac*100, line, eta)
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

// clear erases the bar so that a line can be written in its place.
func (p *progress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// done ends the bar, or writes the summary line, with extra appended.
func (p *progress) done(extra string) {
	now := time.Now()
	p.clear()
	fmt.Fprintf(p.w, "%s %d rows in %s (%.0f rows/s); %s\n", p.verb, p.n, now.Sub(p.start).Round(time.Millisecond),
		p.rate(now), extra)
}

// countingReader counts the bytes read through it into n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}
