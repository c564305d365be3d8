// Package notify is the SOAP listener sink of push subscriptions: it POSTs the changes of the feed as
// a Notifications SOAP 1.1 message (the contract in notifications.wsdl, served to listeners at
// /soap/notifications?wsdl), optionally signed with WS-Security, and counts only a
// NotificationsResponse carrying ack true as delivered. Each notification carries the record's state
// (customer, product, order with its lines, review) in the main contract's shapes, rendered from
// service's domain view; the NATS sink publishes the same Notification as JSON.
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
)

// Namespace is the target namespace of the notifications contract.
const Namespace = "urn:crmsoap:notifications:v1"

// SOAPAction is the action of the Notifications operation.
const SOAPAction = Namespace + "/Notifications"

// WSDL is the listener's contract: what an ERP implements to receive notifications.
//
//go:embed notifications.wsdl
var WSDL []byte

// DefaultTimeout bounds one delivery: anything but an ack within it is a failure.
const DefaultTimeout = 60 * time.Second

// maxResponse bounds the listener's answer that is read.
const maxResponse = 1 << 20

// Sink posts notifications to one listener URL.
type Sink struct {
	URL     string
	Client  *http.Client   // nil: a client with the system roots (or RootCAs) and Timeout
	RootCAs *x509.CertPool // trusted CAs for an https listener; nil: the system roots
	Timeout time.Duration  // 0: DefaultTimeout
	Signer  *wssec.Signer  // nil: unsigned
}

// New returns a sink posting to url.
func New(url string, signer *wssec.Signer, roots *x509.CertPool, timeout time.Duration) *Sink {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &Sink{URL: url, Signer: signer, Timeout: timeout, Client: &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Notifications is the request element.
type Notifications struct {
	XMLName      xml.Name       `xml:"urn:crmsoap:notifications:v1 Notifications"`
	Notification []Notification `xml:"notification"`
}

// FromFeed turns feed entries into notifications.
func FromFeed(entries []store.FeedEntry) Notifications {
	out := Notifications{Notification: make([]Notification, len(entries))}
	for i, e := range entries {
		out.Notification[i] = Of(e)
	}
	return out
}

const envelopeStart = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`
const envelopeEnd = `</soap:Body></soap:Envelope>`

// Envelope returns the (signed, when the sink has a Signer) SOAP 1.1 message for entries.
func (s *Sink) Envelope(entries []store.FeedEntry) ([]byte, error) {
	body, err := xml.Marshal(FromFeed(entries))
	if err != nil {
		return nil, fmt.Errorf("notify: encode: %w", err)
	}
	msg := append(append([]byte(envelopeStart), body...), envelopeEnd...)
	if s.Signer == nil {
		return msg, nil
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(msg); err != nil {
		return nil, fmt.Errorf("notify: sign: %w", err)
	}
	if err := s.Signer.Sign(doc); err != nil {
		return nil, fmt.Errorf("notify: sign: %w", err)
	}
	return doc.WriteToBytes()
}

// Deliver posts entries and returns nil only when the listener answered NotificationsResponse with
// ack true.
func (s *Sink) Deliver(ctx context.Context, entries []store.FeedEntry) error {
	msg, err := s.Envelope(entries)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"`+SOAPAction+`"`)
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("notify: post to listener: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("notify: read the listener's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify: listener answered HTTP %d%s", resp.StatusCode, faultText(raw))
	}
	return checkAck(raw)
}

type answer struct {
	Body struct {
		Response *struct {
			Ack string `xml:"ack"`
		} `xml:"urn:crmsoap:notifications:v1 NotificationsResponse"`
		Fault *struct {
			Code   string `xml:"faultcode"`
			String string `xml:"faultstring"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// checkAck accepts only a NotificationsResponse whose ack is true.
func checkAck(raw []byte) error {
	var a answer
	if err := xml.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("notify: the listener's answer is not a SOAP envelope: %w", err)
	}
	switch {
	case a.Body.Fault != nil:
		return fmt.Errorf("notify: listener fault %s: %s", a.Body.Fault.Code, clip(a.Body.Fault.String))
	case a.Body.Response == nil:
		return errors.New("notify: the listener's answer has no NotificationsResponse")
	case strings.TrimSpace(a.Body.Response.Ack) != "true" && strings.TrimSpace(a.Body.Response.Ack) != "1":
		return errors.New("notify: listener answered ack false")
	}
	return nil
}

func faultText(raw []byte) string {
	var a answer
	if xml.Unmarshal(raw, &a) == nil && a.Body.Fault != nil {
		return ": fault " + a.Body.Fault.Code + ": " + clip(a.Body.Fault.String)
	}
	return ""
}

// clip keeps a listener's text short enough for a log line and the subscription's last error.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
