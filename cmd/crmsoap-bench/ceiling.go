package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// ceilingCmd runs the ceiling server, a child of crmsoap-bench; it is not
// meant to be typed.
const ceilingCmd = "internal-ceiling"

// serveCeiling serves the ceiling C: a bare net/http handler that reads the
// request body as the SOAP endpoint does (into a pooled buffer) and returns a
// canned response of the size of a real GetCustomer response. No XML, no
// database: what net/http and the loopback alone cost on this machine.
func (m *Main) serveCeiling(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(ceilingCmd, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	respFile := fs.String("response", "", "file holding the response body")
	if err := fs.Parse(args); err != nil {
		return err
	}
	canned, err := os.ReadFile(*respFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           ceilingHandler(canned),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(m.Stderr, "{\"level\":\"INFO\",\"msg\":\"serving\",\"addr\":%q}\n", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func ceilingHandler(canned []byte) http.Handler {
	pool := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	ct := []string{"text/xml; charset=utf-8"}
	cl := []string{strconv.Itoa(len(canned))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := pool.Get().(*bytes.Buffer)
		buf.Reset()
		_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 4<<20))
		pool.Put(buf)
		if err != nil {
			http.Error(w, "cannot read the request body", http.StatusBadRequest)
			return
		}
		h := w.Header()
		h["Content-Type"] = ct
		h["Content-Length"] = cl
		w.Write(canned)
	})
}
