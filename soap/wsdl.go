package soap

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// The WSDL 1.1 SOAP binding namespaces of soap:address and soap12:address.
const (
	wsdlSOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
	wsdlSOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
)

// locationMark stands for the endpoint URL in the rendered WSDL template.
const locationMark = "urn:soap-address-location:6f1d3c9a"

// wsdlTemplate is the WSDL rendered once, split at every soap:address location,
// so that serving it is a concatenation with the URL the client used.
type wsdlTemplate struct {
	raw   []byte
	parts [][]byte // len(parts)-1 locations go between them; nil when there is no address
}

func newWSDLTemplate(raw []byte) (*wsdlTemplate, error) {
	if bytes.Contains(raw, []byte(locationMark)) {
		return nil, errors.New("the WSDL contains the location placeholder")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, err
	}
	if doc.Root() == nil {
		return nil, errors.New("the WSDL has no root element")
	}
	found := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if e.Tag == "address" {
			if ns := e.NamespaceURI(); ns == wsdlSOAP11 || ns == wsdlSOAP12 {
				if a := e.SelectAttr("location"); a != nil && a.Space == "" {
					a.Value = locationMark
					found++
				}
			}
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(doc.Root())
	t := &wsdlTemplate{raw: raw}
	if found == 0 {
		return t, nil
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	t.parts = bytes.Split(out, []byte(locationMark))
	return t, nil
}

// render writes the WSDL with every address set to location.
func (t *wsdlTemplate) render(buf *bytes.Buffer, location string) {
	if t.parts == nil || location == "" {
		buf.Write(t.raw)
		return
	}
	for i, p := range t.parts {
		if i > 0 {
			escape(buf, location)
		}
		buf.Write(p)
	}
}

// serveWSDL serves GET ?wsdl.
func (h *Handler) serveWSDL(w http.ResponseWriter, r *http.Request, x *exchange) {
	if h.wsdl == nil {
		x.outcome = "no_wsdl"
		http.Error(w, "no WSDL is configured for this endpoint", http.StatusNotFound)
		return
	}
	x.outcome = "wsdl"
	buf := getBuffer()
	defer putBuffer(buf)
	h.wsdl.render(buf, h.endpointURL(r))
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// endpointURL is the URL the client used to reach this endpoint, "" when the
// host is unknown. X-Forwarded-Proto and X-Forwarded-Host count only with
// TrustProxy.
func (h *Handler) endpointURL(r *http.Request) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if h.cfg.TrustProxy {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if fh := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(fh) {
			host = fh
		}
	}
	if !validHost(host) {
		return ""
	}
	return scheme + "://" + host + r.URL.EscapedPath()
}

// firstValue is the first of a comma-separated header value (the one the
// outermost proxy set), lower-cased scheme names included as sent.
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// validHost accepts host[:port] made of hostname, IPv4 or bracketed IPv6
// characters only, so that a header cannot inject markup or another URL.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}
