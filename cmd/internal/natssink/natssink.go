// Package natssink is the NATS JetStream sink of push subscriptions: each change is published to
// crm.<entity>.<kind> (lower case) on a stream created if missing, with Nats-Msg-Id set to the
// change's notification id (its feed seq), so that JetStream's duplicate window absorbs a batch
// published again after a crash. A batch is acknowledged only when every publish was. The body is
// JSON in one format for every entity (Message).
package natssink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl/notify"
)

// SubjectPrefix starts every subject the sink publishes to; the stream binds SubjectPrefix + ">".
const SubjectPrefix = "crm."

// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id in a stream the sink creates.
const DuplicateWindow = 10 * time.Minute

// Sink publishes to one NATS server and stream. It connects on first use, so a server that is down
// is a delivery failure (retried), not a broken subscription.
type Sink struct {
	URL, Stream string
	Timeout     time.Duration // per publish; 0: 30 s

	mu sync.Mutex
	nc *nats.Conn
	js jetstream.JetStream
}

// New returns a sink publishing to stream on the server at url.
func New(url, stream string) *Sink { return &Sink{URL: url, Stream: stream} }

// Message is the JSON body of a published change: the SOAP listener's Notification with the same
// names (notificationId, entity, kind, id, externalId, version, at) and the record's state under its
// entity (customer, product, order with its lines, review; none for a deletion) in the contract's
// field names, money as exact decimal strings ({"amount":"12.30","currency":"EUR"}).
type Message = notify.Notification

// Subject is where entry is published: crm.<entity>.<kind>, lower case.
func Subject(e store.FeedEntry) string {
	return SubjectPrefix + strings.ToLower(e.Entity) + "." + strings.ToLower(e.Kind)
}

func (s *Sink) connect(ctx context.Context) (jetstream.JetStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.js != nil && s.nc.IsConnected() {
		return s.js, nil
	}
	if s.nc != nil {
		s.nc.Close()
		s.nc, s.js = nil, nil
	}
	nc, err := nats.Connect(s.URL, nats.Name("crmsoap"), nats.Timeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("natssink: connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natssink: %w", err)
	}
	if _, err := js.Stream(ctx, s.Stream); errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: s.Stream, Subjects: []string{SubjectPrefix + ">"},
			Storage: jetstream.FileStorage, Duplicates: DuplicateWindow})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			nc.Close()
			return nil, fmt.Errorf("natssink: create stream %s: %w", s.Stream, err)
		}
	} else if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natssink: stream %s: %w", s.Stream, err)
	}
	s.nc, s.js = nc, js
	return js, nil
}

// Deliver publishes entries in order, each waiting for the stream's ack.
func (s *Sink) Deliver(ctx context.Context, entries []store.FeedEntry) error {
	js, err := s.connect(ctx)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	for _, e := range entries {
		body, err := json.Marshal(notify.Of(e))
		if err != nil {
			return fmt.Errorf("natssink: encode: %w", err)
		}
		msg := nats.NewMsg(Subject(e))
		msg.Data = body
		msg.Header.Set(jetstream.MsgIDHeader, strconv.FormatInt(e.Seq, 10))
		pctx, cancel := context.WithTimeout(ctx, timeout)
		_, err = js.PublishMsg(pctx, msg)
		cancel()
		if err != nil {
			return fmt.Errorf("natssink: publish notification %d: %w", e.Seq, err)
		}
	}
	return nil
}

// Close drops the connection.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc != nil {
		s.nc.Close()
		s.nc, s.js = nil, nil
	}
	return nil
}
