package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a server process started by the generator: `crmsoap serve` or
// the ceiling handler.
type child struct {
	name string
	cmd  *exec.Cmd
	addr string
	done chan error

	// signalExitOK: the process may end with the SIGTERM it is sent (a peer server without a clean
	// shutdown); that is not reported as an error.
	signalExitOK bool

	mu   sync.Mutex
	logs []string // the first warn/error lines, and every line while starting
}

const maxLogs = 40

// startChild runs bin with args plus --addr 127.0.0.1:PORT on a free port,
// and waits until it accepts connections. The address comes from the
// "serving" log line when the child prints one; a child logging at warn level
// does not, so the generator also dials the port it chose.
func startChild(name, bin string, args []string) (*child, error) {
	var last error
	for range 3 { // a port freed by freePort can be taken by someone else before the child binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + port
		c, err := startOnce(name, bin, append(args, "--addr", addr), addr)
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

func startOnce(name, bin string, args []string, addr string) (*child, error) {
	c := &child{name: name, cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	serving := make(chan string, 1)
	go c.readLogs(stderr, serving)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case a := <-serving:
			c.addr = a
			return c, nil
		case err := <-c.done:
			return nil, fmt.Errorf("%s exited before listening (%v):\n%s", name, err, c.logText())
		case <-time.After(20 * time.Millisecond):
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			c.addr = addr
			return c, nil
		}
	}
	c.stop()
	return nil, fmt.Errorf("%s did not listen on %s within 30s:\n%s", name, addr, c.logText())
}

func (c *child) readLogs(stderr io.Reader, serving chan<- string) {
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	started := false
	for sc.Scan() {
		line := sc.Text()
		var rec struct{ Msg, Addr, Level string }
		json.Unmarshal([]byte(line), &rec)
		if rec.Msg == "serving" && rec.Addr != "" && !started {
			started = true
			serving <- rec.Addr
			continue
		}
		c.mu.Lock()
		if len(c.logs) < maxLogs && (!started || rec.Level == "WARN" || rec.Level == "ERROR" || rec.Level == "") {
			c.logs = append(c.logs, line)
		}
		c.mu.Unlock()
	}
	c.done <- c.cmd.Wait()
}

func (c *child) logText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.logs, "\n")
}

// takeLogs returns and forgets the lines logged so far.
func (c *child) takeLogs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.logs
	c.logs = nil
	return l
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM, waits up to 30 s for a clean exit, then kills.
func (c *child) stop() error {
	if c.cmd.Process == nil {
		return nil
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		c.done <- err
		var exit *exec.ExitError
		if c.signalExitOK && errors.As(err, &exit) && !exit.Exited() {
			return nil
		}
		return err
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop on SIGTERM: killed", c.name)
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// serveHas reports which of the given flags `bin serve -h` lists.
func serveHas(bin string, flags ...string) map[string]bool {
	out, _ := exec.Command(bin, "serve", "-h").CombinedOutput()
	has := map[string]bool{}
	for _, f := range flags {
		has[f] = bytes.Contains(out, []byte("-"+f+" ")) || bytes.Contains(out, []byte("-"+f+"\n"))
	}
	return has
}

var clockTicks = sync.OnceValue(func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100 // USER_HZ on every Linux architecture Go supports
})

// processCPU returns the user+system CPU seconds of process pid (0: this
// process) from /proc/PID/stat.
func processCPU(pid int) (float64, error) {
	p := "/proc/self/stat"
	if pid > 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/stat"
	} else if pid < 0 {
		return 0, errors.New("no process")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: split after the last ')'.
	f := statFields(b)
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: unexpected format", p)
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: unexpected format", p)
	}
	return (ut + st) / clockTicks(), nil
}
