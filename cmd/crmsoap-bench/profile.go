package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// startProfile downloads a CPU profile of t's server covering the next d from
// its admin listener (/debug/pprof/profile) into t.profile, when both are set.
// The returned function waits for the download.
func (t target) startProfile(ctx context.Context, d time.Duration) func() error {
	if t.admin == "" || t.profile == "" {
		return func() error { return nil }
	}
	secs := max(1, int(math.Round(d.Seconds())))
	done := make(chan error, 1)
	go func() {
		u := "http://" + t.admin + "/debug/pprof/profile?seconds=" + strconv.Itoa(secs)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			done <- err
			return
		}
		resp, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
			return
		}
		f, err := os.Create(t.profile)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return func() error { return <-done }
}

// withProfile returns t set to save its profile for scenario id at conns in dir.
func (t target) withProfile(dir, id string, conns int) target {
	if dir != "" && t.admin != "" {
		t.profile = filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", id, conns))
	}
	return t
}
