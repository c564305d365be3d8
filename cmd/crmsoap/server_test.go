package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

var update = flag.Bool("update", false, "rewrite golden files")

// binary is the crmsoap executable built once for the tests in this package.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "crmsoap-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "crmsoap")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build crmsoap:", err)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running crmsoap process.
type server struct {
	cmd *exec.Cmd
	URL string // http://127.0.0.1:PORT/soap
	// Admin is the admin listener's base URL, http://127.0.0.1:PORT.
	Admin string
	DB    string
	logs  *syncBuffer
	done  chan error
}

// startServer runs `crmsoap serve` on 127.0.0.1:0 with the database db (a fresh
// one when empty) and waits until it listens.
func startServer(tb testing.TB, db string, args ...string) *server {
	tb.Helper()
	if db == "" {
		db = filepath.Join(tb.TempDir(), "crm.db")
	}
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--db", db, "--log-format", "json"}, args...)
	cmd := exec.Command(binary, all...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start server: %v", err)
	}
	s := &server{cmd: cmd, DB: db, logs: new(syncBuffer), done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			s.logs.Write(append(line, '\n'))
			var rec struct{ Msg, Addr, URL string }
			if json.Unmarshal(line, &rec) == nil {
				switch rec.Msg {
				case "admin listening":
					s.Admin = "http://" + rec.Addr
				case "serving":
					addr <- rec.URL
				}
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case u := <-addr:
		s.URL = u
	case err := <-s.done:
		tb.Fatalf("server exited before listening: %v\n%s", err, s.logs.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		tb.Fatalf("server did not start\n%s", s.logs.String())
	}
	tb.Cleanup(func() { s.stop(tb) })
	return s
}

// syncBuffer is a log buffer written by the reader goroutine while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor reports whether the logs contain want within a few seconds: the
// server writes a request's log line after the response has gone out, and the
// logs arrive through a pipe, so a line may trail the response that caused it.
func (b *syncBuffer) waitFor(want string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if strings.Contains(b.String(), want) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startDevServer runs a server without signature checks (--insecure-no-auth).
func startDevServer(tb testing.TB, db string, args ...string) *server {
	tb.Helper()
	return startServer(tb, db, append([]string{"--insecure-no-auth"}, args...)...)
}

// stop sends SIGTERM and waits for a clean exit (a no-op when already stopped).
func (s *server) stop(tb testing.TB) {
	tb.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			tb.Errorf("server exit: %v\n%s", err, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		tb.Errorf("server did not stop on SIGTERM")
	}
}

// kill stops the server with SIGKILL, as a power cut or OOM killer would.
func (s *server) kill(tb testing.TB) {
	tb.Helper()
	s.cmd.Process.Kill()
	<-s.done
}

// client returns the generated Go SDK pointed at s.
func (s *server) client() wsdl.CrmPortType {
	return wsdl.NewCrmPortType(gowsdlsoap.NewClient(s.URL, gowsdlsoap.WithTimeout(30*time.Second)))
}

// faultOf extracts the CrmFault detail from an error of the generated client: the
// gowsdl client turns any HTTP status >= 400 into *soap.HTTPError with the body.
func faultOf(tb testing.TB, err error) wsdl.CrmFault {
	tb.Helper()
	var he *gowsdlsoap.HTTPError
	if !errors.As(err, &he) {
		tb.Fatalf("error %v (%T), want an HTTP error carrying a SOAP fault", err, err)
	}
	var env struct {
		Body struct {
			Fault struct {
				Code   string                           `xml:"faultcode"`
				Detail struct{ CrmFault wsdl.CrmFault } `xml:"detail"`
			} `xml:"Fault"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(he.ResponseBody, &env); err != nil {
		tb.Fatalf("fault body is not XML: %v\n%s", err, he.ResponseBody)
	}
	f := env.Body.Fault.Detail.CrmFault
	if f.Code == nil {
		tb.Fatalf("fault without CrmFault detail:\n%s", he.ResponseBody)
	}
	return f
}

// post sends a raw envelope and returns status, content type and body.
func post(tb testing.TB, url, contentType, action string, body []byte) (int, string, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if action != "" {
		req.Header.Set("SOAPAction", action)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

var volatile = regexp.MustCompile(`(<(?:\w+:)?(?:createdAt|updatedAt)>)[^<]+(<)`)

// checkGolden compares got with the golden file after masking timestamps.
func checkGolden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	got = volatile.ReplaceAll(got, []byte("${1}TIMESTAMP${2}"))
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("golden file: %v (run go test -update)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		tb.Errorf("response differs from %s\n got: %s\nwant: %s", path, got, want)
	}
}

func waitCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// getURL performs a GET and returns status, content type and body.
func getURL(tb testing.TB, url string) (int, string, []byte) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}
