package wssec

import (
	"context"
	"io"

	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// work counts what one verification did, in units that grow with what a sender controls: elements and
// attributes visited, namespace lookups and declarations read, bytes canonicalized and hashed (a
// character reference such as "&gt;" counts as the character it stands for, see references) and bytes of
// key material read. The
// counts are a cost model, not a clock: tests compare them across input sizes (cost_test.go) so that a change
// that makes some input dimension superlinear fails a test instead of waiting for a profile.
//
// work also carries the request's context: every checkEvery units it asks ctx whether the caller is still
// waiting, so a verification stops soon after its client has gone. A nil *work counts nothing and never stops.
type work struct {
	ctx context.Context

	elements    int64 // elements visited (ID index, canonicalization)
	attrs       int64 // attributes examined
	nsProbes0   int64 // xmlparse.Probes() when the verification started
	nsProbesN   int64 // namespace probes of the whole verification, once finished
	finished    bool
	c14nBytes   int64 // canonical bytes produced, a character reference as one (see references)
	digestBytes int64 // bytes hashed (SignedInfo and reference digests), a reference as one in the latter
	keyBytes    int64 // key material read: token and signature base64, issuer names, serial numbers

	nextCheck int64         // total at which ctx is asked next
	hook      func(w *work) // tests: called at every context check
	err       error         // the context's error, once seen
}

// workHooks let tests watch verifications: check runs at every context check, done when a verification ends.
type workHooks struct {
	check func(w *work)
	done  func(w *work, err error)
}

// checkEvery is how many units of work may pass between two looks at the context.
const checkEvery = 4096

func newWork(ctx context.Context) *work {
	return &work{ctx: ctx, nsProbes0: xmlparse.Probes()}
}

// nsProbes is the number of namespace lookups and declarations read (xmlparse.Scope) since the verification
// started. The count is process-wide: verifications running at the same time see each other's probes, which
// only makes the context checks more frequent; tests and benchmarks verify one message at a time.
func (w *work) nsProbes() int64 {
	if w.finished {
		return w.nsProbesN
	}
	return xmlparse.Probes() - w.nsProbes0
}

// finish freezes the counts at the end of a verification.
func (w *work) finish() {
	if w != nil && !w.finished {
		w.nsProbesN, w.finished = w.nsProbes(), true
	}
}

// total is the sum of all counters.
func (w *work) total() int64 {
	if w == nil {
		return 0
	}
	return w.elements + w.attrs + w.nsProbes() + w.c14nBytes + w.digestBytes + w.keyBytes
}

// check returns the context's error when it is done; it asks the context only once checkEvery units have
// passed since it last did, unless force is set.
func (w *work) check(force bool) error {
	if w == nil {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	t := w.total()
	if !force && t < w.nextCheck {
		return nil
	}
	w.nextCheck = t + checkEvery
	if w.hook != nil {
		w.hook(w)
	}
	if w.ctx != nil {
		w.err = w.ctx.Err()
	}
	return w.err
}

// element counts one element with n attributes and returns the context's error when it is done.
func (w *work) element(n int) error {
	if w == nil {
		return nil
	}
	w.elements++
	w.attrs += int64(n)
	return w.check(false)
}

// keyText counts n bytes of key material text.
func (w *work) keyText(n int) {
	if w != nil {
		w.keyBytes += int64(n)
	}
}

// c14nWriter returns dst counting the canonical bytes written to it.
func (w *work) c14nWriter(dst io.Writer) io.Writer {
	if w == nil {
		return dst
	}
	return &countingWriter{w: dst, n: &w.c14nBytes}
}

// digestWriter returns dst counting the bytes hashed.
func (w *work) digestWriter(dst io.Writer) io.Writer {
	if w == nil {
		return dst
	}
	return &countingWriter{w: dst, n: &w.digestBytes}
}

// references takes back, from the canonical count and from the hashed count when the canonical output went
// to a digestWriter, the extra bytes of the character references a canonicalization wrote: extra is, for
// each reference, its length less one.
//
// Canonical XML writes a character of text or of an attribute value as a reference of 4 to 6 bytes ("&gt;",
// "&#x9;"), and a sender controls how many: a text of '>' or an attribute value of tabs, taken as sent,
// canonicalizes to 4 and 5 bytes per byte sent. Counted per byte, that made such input 3.5 and 4.3 times
// an honest request's work per byte, while it costs less time per byte than an honest request (writing
// and hashing a reference costs little more than one character: about 10 ns per byte sent, against 14-18
// for an honest request, whose cost is in its elements and names). So a reference counts as the one
// character it stands for, as it did in the input: the counts follow the cost, not the size of the output.
// The canonicalizer counts them as it writes them, which costs nothing per byte.
func (w *work) references(extra int64, dst io.Writer) {
	if w == nil || extra == 0 {
		return
	}
	w.c14nBytes -= extra
	if c, ok := dst.(*countingWriter); ok && c.n == &w.digestBytes {
		w.digestBytes -= extra
	}
}

type countingWriter struct {
	w io.Writer
	n *int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	*c.n += int64(len(p))
	return c.w.Write(p)
}
