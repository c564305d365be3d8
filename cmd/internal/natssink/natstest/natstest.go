// Package natstest gives tests a NATS JetStream server: CRMSOAP_TEST_NATS, or a nats-server -js
// started on a free loopback port in a temporary directory and stopped when the test ends.
package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// URL is CRMSOAP_TEST_NATS, or the URL of a nats-server -js started for tb on a free port in a
// temporary directory (stopped and removed after tb).
func URL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv("CRMSOAP_TEST_NATS"); u != "" {
		return u
	}
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		tb.Fatal("nats-server is not installed (make test-deps installs it), and CRMSOAP_TEST_NATS is not set")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := tb.TempDir()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", filepath.Join(dir, "js"))
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	for deadline := time.Now().Add(15 * time.Second); ; {
		if nc, err := nats.Connect(url); err == nil {
			nc.Close()
			return url
		}
		if time.Now().After(deadline) {
			tb.Fatal("nats-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stream is the stream named name on the server at url, for reading back what was published.
func Stream(tb testing.TB, url, name string) jetstream.Stream {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := js.Stream(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
