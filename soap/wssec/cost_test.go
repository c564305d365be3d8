package wssec

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
)

// The cost model of verification, in counted work (work.go) rather than time:
//
//   - growth: doubling any one dimension of a request at most doubles the work (with 10% slack);
//   - level: what a sender without a client key can make the verifier do, per byte sent, is at most
//     maxHostileFactor times what an honest signed request of the same size costs per byte.
const (
	maxGrowth        = 2.2
	maxHostileFactor = 3.0
)

var costSkipped = flag.Bool("cost.skipped", false, "also run the cost families skipped for a known finding")

// verifyWork verifies text with a fresh Verifier (so the replay cache never refuses it) at testNow and
// returns the work it counted.
func verifyWork(tb testing.TB, text string) (*work, error) {
	tb.Helper()
	doc := parseDoc(tb, text)
	w := newWork(context.Background())
	_, err := testVerifier(tb, nil).verify(w, doc, testNow)
	return w, err
}

func (w *work) String() string {
	return fmt.Sprintf("total %d (elements %d, attrs %d, ns probes %d, c14n bytes %d, digest bytes %d, key bytes %d)",
		w.total(), w.elements, w.attrs, w.nsProbes(), w.c14nBytes, w.digestBytes, w.keyBytes)
}

// wantOutcome asserts that a family's message fails where the family says (or verifies when want is ""), so
// that a family keeps measuring the path it names.
func wantOutcome(tb testing.TB, err error, want string) {
	tb.Helper()
	var e *Error
	switch {
	case want == "" && err != nil:
		tb.Fatalf("message does not verify: %v", err)
	case want != "" && (!errors.As(err, &e) || !strings.Contains(e.Reason, want)):
		tb.Fatalf("error = %v, want a fault containing %q", err, want)
	}
}

// honestPerByte is the work per byte of an honest signed request of about size bytes.
var honestCache = map[int]float64{}

func honestPerByte(tb testing.TB, size int) float64 {
	tb.Helper()
	const itemBytes = 30 // about len(`<m:Item n="123">v123</m:Item>`)
	base := len(honestRequest(tb, 0))
	n := max(0, (size-base)/itemBytes)
	if v, ok := honestCache[n]; ok {
		return v
	}
	text := honestRequest(tb, n)
	w, err := verifyWork(tb, text)
	if err != nil {
		tb.Fatalf("honest request of %d items: %v", n, err)
	}
	v := float64(w.total()) / float64(len(text))
	honestCache[n] = v
	return v
}

// TestVerifyCost builds every family at n and 2n and checks the growth and level of its counted work.
func TestVerifyCost(t *testing.T) {
	for _, f := range costFamilies() {
		t.Run(f.name, func(t *testing.T) {
			if f.skip != "" && !*costSkipped {
				t.Skip(f.skip)
			}
			small, large := f.build(t, f.n), f.build(t, 2*f.n)
			w1, err := verifyWork(t, small)
			wantOutcome(t, err, f.want)
			w2, err := verifyWork(t, large)
			var e *Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("error at 2n is not a fault: %v", err)
			}
			growth := float64(w2.total()) / float64(max(1, w1.total()))
			perByte := float64(w2.total()) / float64(len(large))
			honest := honestPerByte(t, len(large))
			t.Logf("n=%d: %d bytes, %v", f.n, len(small), w1)
			t.Logf("2n=%d: %d bytes, %v", 2*f.n, len(large), w2)
			t.Logf("growth %.2f, work/byte %.2f (honest request of that size %.2f: %.1fx)", growth, perByte, honest, perByte/honest)
			if growth > maxGrowth {
				t.Errorf("doubling %s multiplies the work by %.2f (> %.1f)", f.name, growth, maxGrowth)
			}
			if perByte > maxHostileFactor*honest {
				t.Errorf("work per byte %.2f is %.1f times an honest request's %.2f (> %.0fx)", perByte, perByte/honest, honest, maxHostileFactor)
			}
		})
	}
}

// TestVerifyCost_HonestBaseline keeps the yardstick honest: a signed request's work per byte is a small
// constant, dominated by canonicalizing and hashing each signed byte once.
func TestVerifyCost_HonestBaseline(t *testing.T) {
	for _, n := range []int{0, 100, 3000} {
		text := honestRequest(t, n)
		w, err := verifyWork(t, text)
		if err != nil {
			t.Fatal(err)
		}
		perByte := float64(w.total()) / float64(len(text))
		t.Logf("%d items, %d bytes: %v, %.2f/byte", n, len(text), w, perByte)
		if perByte < 1 || perByte > 4 {
			t.Errorf("honest work per byte = %.2f, want between 1 and 4", perByte)
		}
		if n > 0 && w.digestBytes < int64(len(text))/2 {
			t.Errorf("digest bytes %d: the Body (most of the %d bytes) was not hashed", w.digestBytes, len(text))
		}
	}
}

// TestWorkCountsReferencesAsOneCharacter: a character reference of the canonical form counts as the one
// character it stands for, canonicalized and hashed, and so does the canonical output budget.
func TestWorkCountsReferencesAsOneCharacter(t *testing.T) {
	el := parseDoc(t, `<e a="&#9;&#9;">&gt;&gt;&amp;x</e>`).Root()
	const canonical = `<e a="&#x9;&#x9;">&gt;&gt;&amp;x</e>`
	const chars = 18 // <e a=" 6, two tabs, "> 2, three characters and x, </e> 4
	var w work
	var out strings.Builder
	if err := canonicalize(w.digestWriter(&out), el, c14nOptions{work: &w}); err != nil {
		t.Fatal(err)
	}
	if out.String() != canonical || w.c14nBytes != chars || w.digestBytes != chars {
		t.Errorf("canonical %q: %d canonical and %d hashed units, want %q and %d of each", out.String(), w.c14nBytes, w.digestBytes, canonical, chars)
	}
	w = work{}
	if err := canonicalize(io.Discard, el, c14nOptions{work: &w}); err != nil || w.c14nBytes != chars || w.digestBytes != 0 {
		t.Errorf("not hashed: %v, %d canonical and %d hashed units, want %d and 0", err, w.c14nBytes, w.digestBytes, chars)
	}
	// Text of n '>' canonicalizes to 4n bytes and n characters: within the budget of twice its size.
	big := parseDoc(t, `<e>`+strings.Repeat(">", 100000)+`</e>`).Root()
	if err := canonicalize(io.Discard, big, c14nOptions{}); err != nil {
		t.Errorf("text of '>': %v", err)
	}
}
