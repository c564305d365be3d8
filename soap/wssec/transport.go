package wssec

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// HTTPDoer sends HTTP requests: *http.Client, and the HTTPClient of gowsdl's
// soap.Client, which is how the generated SDK is given a ClientTransport.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// DefaultMaxResponseBytes bounds a response read for verification.
const DefaultMaxResponseBytes = 16 << 20

// ClientTransport is the client side of WS-Security for an SDK: it signs every
// request envelope with Signer (when set) and, when ServerCert is set, refuses
// any response that is not signed by that certificate, with one exception: a
// fault with no signature at all, which the server sends for requests it
// refuses before authenticating them, is returned as an *UnsignedFaultError
// (never as a response), so the caller learns what was wrong, marked as
// unauthenticated.
type ClientTransport struct {
	Next             HTTPDoer // http.DefaultClient when nil
	Signer           *Signer
	ServerCert       *x509.Certificate
	Now              func() time.Time // time.Now when nil
	MaxResponseBytes int64            // DefaultMaxResponseBytes when zero
}

// Do signs req's envelope, sends it, and verifies the response's signature.
func (t *ClientTransport) Do(req *http.Request) (*http.Response, error) {
	if t.Signer != nil {
		if err := t.signRequest(req); err != nil {
			return nil, err
		}
	}
	next := t.Next
	if next == nil {
		next = http.DefaultClient
	}
	resp, err := next.Do(req)
	if err != nil || t.ServerCert == nil {
		return resp, err
	}
	if err := t.verifyResponse(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

func (t *ClientTransport) signRequest(req *http.Request) error {
	if req.Body == nil {
		return errors.New("wssec: request has no envelope to sign")
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return err
	}
	doc, err := parseOwn(raw)
	if err != nil {
		return fmt.Errorf("wssec: request envelope: %w", err)
	}
	if err := t.Signer.Sign(doc); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) + 4<<10) // the envelope plus the Security header: one allocation
	if _, err := doc.WriteTo(&buf); err != nil {
		return err
	}
	signed := buf.Bytes()
	req.Body = io.NopCloser(bytes.NewReader(signed))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(signed)), nil }
	req.ContentLength = int64(len(signed))
	req.Header.Set("Content-Length", strconv.Itoa(len(signed)))
	return nil
}

func (t *ClientTransport) verifyResponse(resp *http.Response) error {
	limit := t.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("wssec: read response: %w", err)
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("wssec: response exceeds %d bytes", limit)
	}
	// One pass of the request parser (no DOCTYPE, no entities); the body is
	// already bounded by limit.
	doc, err := xmlparse.Parse(bytes.TrimPrefix(body, utf8BOM), math.MaxInt, math.MaxInt)
	if err != nil {
		return fmt.Errorf("wssec: response (HTTP %d) is not XML: %w", resp.StatusCode, err)
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	if _, err := VerifyResponse(doc, t.ServerCert, now()); err != nil {
		if f := unsignedFault(doc, resp.StatusCode, body); f != nil {
			return f
		}
		return fmt.Errorf("wssec: response (HTTP %d) signature: %w", resp.StatusCode, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

var utf8BOM = []byte("\xef\xbb\xbf")

// parseOwn parses an envelope the caller's own SDK wrote with the fast parser
// of package soap, falling back to etree's for anything it refuses (such as an
// undeclared prefix a custom MarshalXML wrote).
func parseOwn(raw []byte) (*etree.Document, error) {
	if doc, err := xmlparse.Parse(bytes.TrimPrefix(raw, utf8BOM), math.MaxInt, math.MaxInt); err == nil {
		return doc, nil
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, err
	}
	return doc, nil
}
