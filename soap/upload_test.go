package soap

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slowUpload opens a connection to srv and sends the headers of a POST that
// announces a body of size bytes, then the first part bytes of it, and leaves
// the rest unsent. The connection is closed at the end of the test.
func slowUpload(tb testing.TB, srv *httptest.Server, size int, part string) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", ct11, size, part)
	return c
}

// readResponse reads the response on c, body included.
func readResponse(tb testing.TB, c net.Conn) (*http.Response, []byte) {
	tb.Helper()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		tb.Fatalf("no response on the slow connection: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}

func readStatus(tb testing.TB, c net.Conn) *http.Response {
	tb.Helper()
	resp, _ := readResponse(tb, c)
	return resp
}

// waitUploads waits until the handler counts n bodies being read.
func waitUploads(tb testing.TB, h *Handler, n int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.upload) != n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d uploads in progress, want %d", len(h.upload), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHandler_SlowUploadsDoNotTakeInFlightSlots: connections that send their
// headers and one byte of body hold no in-flight slot, so a whole request
// is still served while they wait.
func TestHandler_SlowUploadsDoNotTakeInFlightSlots(t *testing.T) {
	const slow = 4
	h := newToyHandler(t, func(c *Config) { c.MaxInFlight = slow; c.MaxUploads = 2 * slow })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close) // after the slow connections close: it waits for their handlers
	for range slow {
		slowUpload(t, srv, len(echoBody11), echoBody11[:1])
	}
	waitUploads(t, h, slow)
	resp, body := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(echoBody11))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with %d idle uploads and --max-inflight %d: status %d, want 200\n%s", slow, slow, resp.StatusCode, body)
	}
}

// TestHandler_MaxUploads: beyond MaxUploads bodies being read at once, a POST
// is refused at once with 503, Retry-After and an UNAVAILABLE fault; once an
// upload finishes there is room again.
func TestHandler_MaxUploads(t *testing.T) {
	const uploads = 3
	h := newToyHandler(t, func(c *Config) { c.MaxUploads = uploads })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close) // after the slow connections close: it waits for their handlers
	conns := make([]net.Conn, uploads)
	for i := range conns {
		conns[i] = slowUpload(t, srv, len(echoBody11), echoBody11[:1])
	}
	waitUploads(t, h, uploads)
	resp, body := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(echoBody11))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "<code>UNAVAILABLE</code>") {
		t.Fatalf("upload %d of %d: status %d Retry-After %q, want 503 UNAVAILABLE with Retry-After\n%s",
			uploads+1, uploads, resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// The first slow client finishes its body: it is answered, and its upload slot is free again.
	if _, err := conns[0].Write([]byte(echoBody11[1:])); err != nil {
		t.Fatal(err)
	}
	if got := readStatus(t, conns[0]); got.StatusCode != http.StatusOK {
		t.Errorf("the slow client that finished its body got %d, want 200", got.StatusCode)
	}
	waitUploads(t, h, uploads-1)
	if resp, body := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(echoBody11)); resp.StatusCode != http.StatusOK {
		t.Errorf("after an upload finished: status %d, want 200\n%s", resp.StatusCode, body)
	}
}

// TestHandler_MinUploadRate: a body that arrives slower than MinUploadRate
// after UploadGrace is cut with 408 and a fault; one that keeps the pace is
// served.
func TestHandler_MinUploadRate(t *testing.T) {
	h := newToyHandler(t, func(c *Config) {
		c.MinUploadRate = 1000 // bytes/s
		c.UploadGrace = 100 * time.Millisecond
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close) // after the slow connections close: it waits for their handlers

	// One byte, then nothing: the body is due at 100 ms + 1 ms.
	c := slowUpload(t, srv, len(echoBody11), echoBody11[:1])
	resp, body := readResponse(t, c)
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Errorf("stalled upload: status %d close %v, want 408 and Connection: close", resp.StatusCode, resp.Close)
	}
	if code, reason, detail := faultParts(t, body); code != "soap:Client" || detail != CodeMalformedRequest ||
		!strings.Contains(reason, "1000 bytes per second") {
		t.Errorf("stalled upload: fault %s %q %s, want soap:Client MALFORMED_REQUEST naming the rate", code, reason, detail)
	}
	waitUploads(t, h, 0)

	// The whole body well within the grace period is served on the same handler.
	if resp, body := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(echoBody11)); resp.StatusCode != http.StatusOK {
		t.Errorf("a prompt request after the cut: status %d, want 200\n%s", resp.StatusCode, body)
	}
}

// TestHandler_MinUploadRateKeptIsServed: a body sent in small pieces, each
// well within what the rate asks, is served.
func TestHandler_MinUploadRateKeptIsServed(t *testing.T) {
	h := newToyHandler(t, func(c *Config) {
		c.MinUploadRate = 50 // bytes/s; the pieces below come at about 500
		c.UploadGrace = 500 * time.Millisecond
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := slowUpload(t, srv, len(echoBody11), "")
	for rest := echoBody11; rest != ""; {
		n := min(10, len(rest))
		if _, err := c.Write([]byte(rest[:n])); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
		time.Sleep(20 * time.Millisecond)
	}
	if resp := readStatus(t, c); resp.StatusCode != http.StatusOK {
		t.Errorf("a body that kept the pace: status %d, want 200", resp.StatusCode)
	}
}

// TestHandler_DeclaredOversizeRefusedUpFront: a Content-Length above MaxBodyBytes gets 413 before any of
// the body is sent, and takes no upload place while the client holds the rest back.
func TestHandler_DeclaredOversizeRefusedUpFront(t *testing.T) {
	h := newToyHandler(t, func(c *Config) { c.MaxBodyBytes = 1024 })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := slowUpload(t, srv, 1<<30, "")
	resp, body := readResponse(t, c)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "request body exceeds 1024 bytes") {
		t.Errorf("status %d, body %s; want 413 saying the limit", resp.StatusCode, body)
	}
	if n := len(h.upload); n != 0 {
		t.Errorf("%d upload places held after the refusal, want 0", n)
	}
}
