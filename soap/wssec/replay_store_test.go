package wssec

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memReplayStore is a ReplayStore in a map, shared by Verifiers the way a database is shared by restarts
// and servers; fail makes it answer with an error.
type memReplayStore struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	calls atomic.Int64
	fail  error
}

func (s *memReplayStore) Remember(_ context.Context, key []byte, expires, now time.Time) (bool, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return false, s.fail
	}
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	if e, ok := s.seen[string(key)]; ok && e.After(now) {
		return false, nil
	}
	s.seen[string(key)] = expires
	return true, nil
}

func persistentVerifier(t *testing.T, s ReplayStore) *Verifier {
	v := testVerifier(t, nil)
	v.PersistReplays(s)
	return v
}

// TestVerifier_ReplayAfterRestart: a Verifier with an empty memory (a restarted server) refuses a message
// its predecessor accepted, because the store remembers it.
func TestVerifier_ReplayAfterRestart(t *testing.T) {
	s := &memReplayStore{}
	text := signed(t, soap11Envelope, "client-rsa")
	if _, err := persistentVerifier(t, s).Verify(parseDoc(t, text)); err != nil {
		t.Fatal(err)
	}
	restarted := persistentVerifier(t, s)
	_, err := restarted.Verify(parseDoc(t, text))
	wantFault(t, err, "InvalidSecurity", "message replayed")
	// The memory answers the next copy without asking the store again.
	calls := s.calls.Load()
	_, err = restarted.Verify(parseDoc(t, text))
	wantFault(t, err, "InvalidSecurity", "message replayed")
	if got := s.calls.Load(); got != calls {
		t.Errorf("the store was asked %d more times for a key already in memory", got-calls)
	}
	// Without a store, the restart forgets: what the store is for.
	if _, err := testVerifier(t, nil).Verify(parseDoc(t, text)); err != nil {
		t.Fatalf("memory-only verifier: %v", err)
	}
}

// TestVerifier_ReplayStoreFailure: when the store fails the message is refused with an internal error
// (not a WS-Security fault) and not remembered, so the same message is accepted once the store is back.
func TestVerifier_ReplayStoreFailure(t *testing.T) {
	down := errors.New("disk full")
	s := &memReplayStore{fail: down}
	v := persistentVerifier(t, s)
	text := signed(t, soap11Envelope, "client-rsa")
	_, err := v.Verify(parseDoc(t, text))
	var werr *Error
	if !errors.Is(err, down) || errors.As(err, &werr) {
		t.Fatalf("store failure: %v (%T), want the store's error, not an *Error", err, err)
	}
	s.mu.Lock()
	s.fail = nil
	s.mu.Unlock()
	if _, err := v.Verify(parseDoc(t, text)); err != nil {
		t.Fatalf("after the store recovered: %v", err)
	}
}

// TestVerifier_ReplayConcurrentCopiesTwoServers: copies of one message verified at once by two Verifiers
// sharing a store (two servers, or a restart overlapping the old process): exactly one is accepted.
func TestVerifier_ReplayConcurrentCopiesTwoServers(t *testing.T) {
	s := &memReplayStore{}
	vs := []*Verifier{persistentVerifier(t, s), persistentVerifier(t, s)}
	text := signed(t, soap11Envelope, "client-rsa")
	const copies = 32
	var ok, replayed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := parseDoc(t, text)
			<-start
			_, err := vs[i%2].Verify(doc)
			var e *Error
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &e) && e.Reason == "message replayed":
				replayed.Add(1)
			default:
				t.Errorf("copy %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != copies-1 {
		t.Fatalf("%d accepted, %d refused as replays; want 1 and %d", ok.Load(), replayed.Load(), copies-1)
	}
}

// TestRegistry_RevokedByKeyIdentifier: a registered certificate that is revoked is refused when the
// message names it by issuer/serial, SKI or thumbprint, not only when it carries it as a token.
func TestRegistry_RevokedByKeyIdentifier(t *testing.T) {
	reg := testRegistry(t, true)
	cert := loadKey(t, "client-rsa").cert
	reg.Revoke([][32]byte{sha256.Sum256(cert.Raw)})
	tp := sha1.Sum(cert.Raw)
	for form, find := range map[string]func() (string, error){
		"IssuerSerial": func() (string, error) {
			_, n, err := reg.FindByIssuerSerial(cert.Issuer.String(), cert.SerialNumber)
			return n, err
		},
		"SKI":        func() (string, error) { _, n, err := reg.FindBySKI(cert.SubjectKeyId); return n, err },
		"Thumbprint": func() (string, error) { _, n, err := reg.FindByThumbprintSHA1(tp[:]); return n, err },
	} {
		name, err := find()
		if err == nil {
			t.Errorf("%s: the revoked certificate authenticated %q", form, name)
			continue
		}
		wantFault(t, err, "FailedAuthentication", "certificate is revoked")
	}
}

// TestVerifier_ReplayCacheFullWithStore: with a store, a full memory no longer refuses new messages (the
// store has every record), and a replay of a message that did not fit in memory is still refused.
func TestVerifier_ReplayCacheFullWithStore(t *testing.T) {
	s := &memReplayStore{}
	v := testVerifier(t, func(c *Config) { c.ReplayCacheSize = 2 })
	v.PersistReplays(s)
	var third string
	for i := range 3 {
		third = signed(t, soap11Envelope, "client-rsa")
		if _, err := v.Verify(parseDoc(t, third)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if n := v.replay.len(); n != 2 {
		t.Errorf("memory holds %d entries, want its bound 2", n)
	}
	_, err := v.Verify(parseDoc(t, third))
	wantFault(t, err, "InvalidSecurity", "message replayed")
}
