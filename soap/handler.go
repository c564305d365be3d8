package soap

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// The limits applied when the corresponding Config field is zero.
const (
	DefaultMaxBodyBytes = 4 << 20
	DefaultMaxDepth     = 64
	DefaultMaxElements  = 100000
)

// ScalarDecoder decodes the text of a leaf element (whitespace already trimmed)
// into dst, which is addressable and of the type the decoder is registered for.
// Its error text follows the field path in a VALIDATION_FAILED message, e.g.
// `"x" is not a valid xs:date`.
type ScalarDecoder func(text string, dst reflect.Value) error

// LeafEncoder writes a leaf of a response whose type implements xml.Marshaler
// (such as gowsdl's date types) without going through encoding/xml: it appends
// to dst the character data, already escaped, that the type's MarshalXML
// writes inside its element, and returns it. omit: MarshalXML writes nothing
// at all for v. ok false: the encoder does not cover v, whose MarshalXML is
// called instead. v is addressable. The output must be byte for byte what
// MarshalXML writes: test it against encoding/xml.
type LeafEncoder func(dst []byte, v reflect.Value) (text []byte, omit, ok bool)

// Security processes header blocks by name (it takes part in mustUnderstand
// checks) and verifies the envelope before dispatch. Check returns the context to
// use (carrying the principal, see WithPrincipal) and the body child element to
// dispatch, which MUST be the element it verified, and, when it verified
// signatures, the signed elements (WithSigned): a wsa:MessageID keys retries
// only when signed. Its errors should be *Error with Code CodeUnauthorized and
// a WS-Security Subcode.
type Security interface {
	Understands(name xml.Name) bool
	Check(ctx context.Context, env *Envelope) (context.Context, *etree.Element, error)
}

// Envelope is a parsed request as handed to Security: the document, its SOAP
// version, its Header (nil when absent) and Body elements, and the raw bytes as
// received. Nothing in it is verified yet. Raw is only valid during Check: its
// memory is reused once the request is answered.
type Envelope struct {
	Doc          *etree.Document
	Version      Version
	Header, Body *etree.Element
	Raw          []byte
}

// Config configures a Handler. Only Operations is required.
type Config struct {
	WSDL         []byte                                // served at ?wsdl, soap:address locations rewritten
	Operations   []Operation                           // one per body element
	Detail       func(code, message, field string) any // detail element of this package's own faults; nil: none
	Scalars      map[reflect.Type]ScalarDecoder        // strict decoders for leaf types (dates)
	Leaves       map[reflect.Type]LeafEncoder          // encoders of xml.Marshaler leaf types (dates) in responses
	Security     Security                              // nil: no message security
	MaxBodyBytes int64                                 // default DefaultMaxBodyBytes
	MaxDepth     int                                   // default DefaultMaxDepth
	MaxElements  int                                   // default DefaultMaxElements
	TrustProxy   bool                                  // honour X-Forwarded-Proto and X-Forwarded-Host
	Logger       *slog.Logger                          // default slog.Default()
	// MaxInFlight bounds the POSTs handled at once, counted from the moment a
	// whole body has arrived; beyond it a request is refused at once with a
	// Receiver fault (UNAVAILABLE), HTTP 503 and Retry-After, rather than
	// queued. 0: no bound.
	MaxInFlight int
	// MaxUploads bounds the request bodies being received at once; beyond it
	// a POST is refused like an excess in-flight request, without reading its
	// body. 0: no bound (serve uses DefaultMaxUploads).
	MaxUploads int
	// MinUploadRate, when positive, is the slowest a body may arrive after
	// UploadGrace, in bytes per second on average since the body began: a
	// slower one is cut with HTTP 408 and a MALFORMED_REQUEST fault.
	MinUploadRate int64
	UploadGrace   time.Duration
	// MemoryBudget bounds, server-wide, the memory of the requests being read
	// and handled: each reserves its body bytes as they arrive, then what parse,
	// verify and decode were measured to take for a body of its size and markup
	// (see memoryNeed) before its tree is built, and releases it when answered.
	// A request that does not fit is refused with 503 and Retry-After, nothing
	// parsed. 0: no bound (serve uses DefaultMemoryBudget).
	MemoryBudget int64
	// Observer, when set, is told of every request (metrics).
	Observer Observer
	// SignResponse, when set, signs the responses and faults of requests that
	// passed Security (every request that parsed, when Security is nil) before
	// they are sent (WS-Security). Faults for requests refused before that
	// (transport, limits, parse, mustUnderstand, security) go out unsigned: a
	// signature must not be the price of a few bytes of garbage. A response
	// that cannot be signed is replaced by an unsigned INTERNAL fault.
	SignResponse func(*etree.Document) error
	// SenderStatus12 is the HTTP status of SOAP 1.2 Sender faults: 0 means
	// 400, as SOAP 1.2 part 2 (7.5.1.2) says; 500 suits clients that read a
	// fault only from a 500, such as .NET's WCF client.
	SenderStatus12 int
}

// Handler is the http.Handler of one SOAP endpoint: GET ?wsdl serves the WSDL,
// POST takes SOAP 1.1 and SOAP 1.2 envelopes.
type Handler struct {
	cfg    Config
	routes map[xml.Name]*route
	wsdl   *wsdlTemplate
	log    *slog.Logger
	newID  func() string
	slots  limiter // in-flight bound
	upload limiter // bodies being received
	budget *memoryBudget
}

type route struct {
	op   Operation
	plan *structPlan
}

// NewHandler checks cfg and compiles the decode plan of every operation's
// request type. It fails on a duplicate operation, a request type the decoder
// does not support, or a WSDL that does not parse.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.MaxElements <= 0 {
		cfg.MaxElements = DefaultMaxElements
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, routes: make(map[xml.Name]*route), log: cfg.Logger, newID: randomID}
	h.slots, h.upload, h.budget = newLimiter(cfg.MaxInFlight), newLimiter(cfg.MaxUploads), newMemoryBudget(cfg.MemoryBudget)
	if h.budget != nil && h.budget.limit < MinMemoryBudget(cfg.MaxBodyBytes, cfg.MaxElements) {
		return nil, errors.New(budgetError(cfg.MemoryBudget, cfg.MaxBodyBytes, cfg.MaxElements))
	}
	if cfg.MinUploadRate < 0 || cfg.UploadGrace < 0 {
		return nil, errors.New("soap: MinUploadRate and UploadGrace must not be negative")
	}
	c := newCompiler(cfg.Scalars)
	for _, op := range cfg.Operations {
		if op.call == nil {
			return nil, fmt.Errorf("soap: operation %s was not built with Op", op.name.Local)
		}
		if _, dup := h.routes[op.name]; dup {
			return nil, fmt.Errorf("soap: duplicate operation {%s}%s", op.name.Space, op.name.Local)
		}
		plan, err := c.compile(op.reqType)
		if err != nil {
			return nil, fmt.Errorf("soap: operation %s: %w", op.name.Local, err)
		}
		h.routes[op.name] = &route{op: op, plan: plan}
		planFor(op.resType) // compile the response encoder now, not on the first request
	}
	if cfg.WSDL != nil {
		t, err := newWSDLTemplate(cfg.WSDL)
		if err != nil {
			return nil, fmt.Errorf("soap: WSDL: %w", err)
		}
		h.wsdl = t
	}
	return h, nil
}

// request is everything one request needs that outlives a function call, in
// one allocation: the log record, the counting writer, the context and the
// header values the handler sets.
type request struct {
	x   exchange
	cw  countingWriter
	ctx requestContext
}

// ServeHTTP serves GET ?wsdl and POSTed envelopes; any other method is 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{x: exchange{start: time.Now(), version: V11}, cw: countingWriter{ResponseWriter: w}}
	x, cw := &rq.x, &rq.cw
	x.id = requestID(r.Header.Get("X-Request-Id"), h.newID)
	x.hdr[hdrRequestID] = x.id
	w.Header()["X-Request-Id"] = x.hdr[hdrRequestID : hdrRequestID+1 : hdrRequestID+1]
	if h.cfg.Observer != nil {
		h.cfg.Observer.Begin()
	}
	rq.ctx = requestContext{Context: r.Context(), id: x.id, x: x, log: h.log}
	ctx := &rq.ctx
	defer h.finish(ctx, r, x, cw)
	switch {
	case r.Method == http.MethodPost:
		h.servePost(ctx, cw, r, x)
	case r.Method == http.MethodGet && isWSDLQuery(r):
		h.serveWSDL(cw, r, x)
	case r.Method == http.MethodGet:
		h.serveInfo(cw, r, x)
	default:
		cw.Header().Set("Allow", "GET, POST")
		h.fail(ctx, cw, x, &Error{Code: CodeMalformedRequest, Status: http.StatusMethodNotAllowed,
			Message: "method " + r.Method + " is not allowed: POST a SOAP envelope, or GET ?wsdl"})
	}
}

// isWSDLQuery reports whether the query asks for the WSDL: ?wsdl or ?WSDL.
func isWSDLQuery(r *http.Request) bool {
	for k := range r.URL.Query() {
		if strings.EqualFold(k, "wsdl") {
			return true
		}
	}
	return false
}

func (h *Handler) serveInfo(w http.ResponseWriter, r *http.Request, x *exchange) {
	x.outcome = "info"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "SOAP endpoint: POST SOAP 1.1 (text/xml) or SOAP 1.2 (application/soap+xml) envelopes here.\n"+
		"The WSDL is at %s?wsdl\n", r.URL.EscapedPath())
}

// requestID returns the client's X-Request-Id when it is sane, else a new one.
func requestID(client string, newID func() string) string {
	if len(client) < 1 || len(client) > 64 {
		return newID()
	}
	for i := 0; i < len(client); i++ {
		c := client[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return newID()
		}
	}
	return client
}

// randomID is 16 random hex characters. Request IDs are not secrets: the
// runtime's per-thread generator (math/rand/v2) is unpredictable enough and
// costs no system call.
func randomID() string {
	const digits = "0123456789abcdef"
	var b [16]byte
	n := rand.Uint64()
	for i := range b {
		b[i] = digits[n&15]
		n >>= 4
	}
	return string(b[:])
}
