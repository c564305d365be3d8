package soap

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// servePost handles one POSTed envelope from transport checks to response.
// The body is read under an upload place and the memory budget; only a whole
// body takes an in-flight place, so slow senders cannot crowd out the work.
func (h *Handler) servePost(ctx context.Context, w http.ResponseWriter, r *http.Request, x *exchange) {
	v, action, err := transport(r.Header)
	x.version = v
	if err != nil {
		h.fail(ctx, w, x, err)
		return
	}
	if !h.upload.acquire() {
		h.shed(ctx, w, x, errBusyUploads, true)
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	res := reservation{budget: h.budget}
	defer res.release()
	err = h.readBody(w, r, buf, &res)
	h.upload.release()
	x.bytesIn = buf.Len()
	if err != nil {
		if e, busy := h.readError(w, err); busy {
			h.shed(ctx, w, x, e, true)
		} else {
			h.fail(ctx, w, x, e)
		}
		return
	}
	if err := ctx.Err(); err != nil {
		h.abandoned(ctx, w, x, err)
		return
	}
	if !h.slots.acquire() {
		h.shed(ctx, w, x, errBusyInFlight, false)
		return
	}
	defer h.slots.release()
	if !h.reserveTree(ctx, w, x, &res, buf.Bytes()) {
		return
	}
	resp, err := h.process(ctx, x, v, action, buf.Bytes())
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			h.abandoned(ctx, w, x, cerr)
			return
		}
		h.fail(ctx, w, x, err)
		return
	}
	h.respond(ctx, w, x, resp)
}

// process runs an envelope through parsing, mustUnderstand, security, routing,
// strict decoding and the operation, and returns the response value.
func (h *Handler) process(ctx context.Context, x *exchange, v Version, action string, unverified []byte) (any, error) {
	env, err := parseEnvelope(unverified, v, h.cfg.MaxDepth, h.cfg.MaxElements)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx = withVersion(ctx, v)
	if err := notUnderstood(env, h.understands); err != nil {
		return nil, err
	}
	body := firstChildElement(env.Body) // checkBody made sure there is exactly one
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if h.cfg.Security != nil {
		ctx, body, err = h.cfg.Security.Check(ctx, env)
		if err != nil {
			return nil, err
		}
		if body == nil || ctx == nil {
			return nil, errors.New("soap: Security.Check returned no context or body element")
		}
		x.principal = PrincipalFrom(ctx)
	}
	x.authenticated = true // from here on, answers are signed (Config.SignResponse)
	if err := readAddressing(env.Header, &x.wsa); err != nil {
		return nil, err
	}
	rt, err := h.route(body, action, v, &x.wsa)
	if err != nil {
		return nil, err
	}
	x.op = rt.op.name.Local
	if id := trustedMessageID(ctx, h.cfg.Security != nil, &x.wsa); id != "" {
		ctx = withRequestKey(ctx, id, x.op, body)
	}
	req := reflect.New(rt.op.reqType)
	if err := rt.plan.decode(body, req.Elem(), rt.op.name.Space, ""); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return h.call(ctx, rt, req.Interface())
}

func firstChildElement(e *etree.Element) *etree.Element {
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok {
			return c
		}
	}
	return nil
}

// route picks the operation of the body element and checks the actions against it.
func (h *Handler) route(body *etree.Element, action string, v Version, wsa *addressing) (*route, error) {
	name := xml.Name{Space: xmlparse.ElemNS(body), Local: body.Tag}
	rt, ok := h.routes[name]
	if !ok {
		return nil, errorf(CodeUnknownOperation, "", "unknown operation {%s}%s", name.Space, name.Local)
	}
	if err := checkActions(&rt.op, v, action, wsa); err != nil {
		return nil, err
	}
	wsa.reply = rt.op.replyAction()
	return rt, nil
}

// call runs the operation, turning a panic into an internal error.
func (h *Handler) call(ctx context.Context, rt *route, req any) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return rt.op.call(ctx, req)
}

type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v\n%s", e.value, e.stack) }

// respond writes the response envelope of resp, or an internal fault when resp
// does not marshal.
func (h *Handler) respond(ctx context.Context, w http.ResponseWriter, x *exchange, resp any) {
	buf := getBuffer()
	defer putBuffer(buf)
	openEnvelope(buf, x.version)
	writeAddressingHeader(buf, x.version, &x.wsa, x.wsa.reply)
	p := envPrefix(x.version)
	buf.WriteString("<" + p + ":Body>")
	if err := encodeXML(buf, resp, h.cfg.Leaves); err != nil {
		h.fail(ctx, w, x, fmt.Errorf("marshal %T: %w", resp, err))
		return
	}
	buf.WriteString("</" + p + ":Body></" + p + ":Envelope>")
	if err := h.sign(x, buf); err != nil {
		h.fail(ctx, w, x, err)
		return
	}
	x.outcome = "ok"
	write(w, x, http.StatusOK, buf)
}

// sign replaces the envelope in buf by its signed form when responses are
// signed and the request passed Security: a request refused before that is
// answered unsigned, so that garbage costs no signature.
func (h *Handler) sign(x *exchange, buf *bytes.Buffer) error {
	x.signed = false
	if h.cfg.SignResponse == nil || !x.authenticated {
		return nil
	}
	// The envelope is this package's own output: the request parser reads it
	// (no limits to speak of), and etree's parser takes over in the unlikely
	// case that an application's MarshalXML wrote something it refuses, such
	// as an undeclared prefix.
	doc, err := xmlparse.Parse(buf.Bytes(), math.MaxInt, math.MaxInt)
	if err != nil {
		doc = etree.NewDocument()
		if err := doc.ReadFromBytes(buf.Bytes()); err != nil {
			return fmt.Errorf("sign response: parse: %w", err)
		}
	}
	if err := h.cfg.SignResponse(doc); err != nil {
		return fmt.Errorf("sign response: %w", err)
	}
	buf.Reset()
	if _, err := doc.WriteTo(buf); err != nil {
		return fmt.Errorf("sign response: write: %w", err)
	}
	x.signed = true
	return nil
}

// fail writes err as a fault in the exchange's version, logging internal errors.
func (h *Handler) fail(ctx context.Context, w http.ResponseWriter, x *exchange, err error) {
	f, internal := h.faultFor(err)
	switch {
	case internal:
		h.log.ErrorContext(ctx, "request failed", "request_id", x.id, "op", x.op, "err", err)
	case f.role == roleReceiver:
		// A receiver fault the application chose to send: its cause is still ours to see.
		h.log.WarnContext(ctx, "receiver fault", "request_id", x.id, "op", x.op, "outcome", f.outcome, "err", err)
	}
	x.outcome = f.outcome
	f.wsa = &x.wsa
	var se *Error
	if errors.As(err, &se) && se.Subcode.Local != "" {
		x.security, x.securityCause = se.Subcode.Local, se.Message
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if derr := writeFaultEnvelope(buf, x.version, &f); derr != nil {
		h.log.ErrorContext(ctx, "fault detail does not marshal", "request_id", x.id, "err", derr)
		buf.Reset()
		f.detail = nil
		_ = writeFaultEnvelope(buf, x.version, &f)
	}
	if serr := h.sign(x, buf); serr != nil {
		// Never loop: the replacement fault goes out unsigned.
		h.log.ErrorContext(ctx, "response not signed", "request_id", x.id, "err", serr)
		f, _ = h.faultFor(serr)
		x.outcome = f.outcome
		buf.Reset()
		_ = writeFaultEnvelope(buf, x.version, &f)
	}
	write(w, x, statusOf(x.version, &f, h.cfg.SenderStatus12), buf)
}

// write sends buf as the whole response. The header values live in the
// exchange, which saves an allocation per header.
func write(w http.ResponseWriter, x *exchange, status int, buf *bytes.Buffer) {
	x.hdr[hdrContentType] = contentTypeOf(x.version)
	x.hdr[hdrContentLength] = strconv.Itoa(buf.Len())
	hdr := w.Header()
	hdr["Content-Type"] = x.hdr[hdrContentType : hdrContentType+1 : hdrContentType+1]
	hdr["Content-Length"] = x.hdr[hdrContentLength : hdrContentLength+1 : hdrContentLength+1]
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

// putBuffer returns buf to the pool unless it grew large (one huge request must
// not pin memory for ever).
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return
	}
	buf.Reset()
	bufPool.Put(buf)
}
