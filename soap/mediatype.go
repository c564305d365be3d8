package soap

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// transport reads the SOAP version and action from the request headers: text/xml
// is SOAP 1.1 with the SOAPAction header, application/soap+xml is SOAP 1.2 with
// the action parameter, quoted or not (KDSoap sends it bare, which RFC 2045
// does not allow for a value with a colon). Anything else, or a charset other
// than UTF-8, is 415 with a message that quotes what was received and says what
// is expected (no charset is fine: XML carries its own encoding).
func transport(hdr http.Header) (Version, string, error) {
	ct := hdr.Get("Content-Type")
	media, charset, action, ok := parseContentType(ct)
	if !ok {
		v := V11
		if media == "application/soap+xml" {
			v = V12 // the fault in the version the client speaks
		}
		return v, "", unsupportedMedia(ct, media)
	}
	if media == "text/xml" {
		action := strings.TrimSpace(hdr.Get("SOAPAction"))
		if len(action) >= 2 && action[0] == '"' && action[len(action)-1] == '"' {
			action = action[1 : len(action)-1]
		}
		return V11, action, checkCharset(ct, charset, V11)
	}
	return V12, action, checkCharset(ct, charset, V12)
}

// parseContentType answers for the two SOAP media types: the fast path, then
// mime.ParseMediaType, then once more with a bare action value quoted. media is
// the base type as far as it could be read, also when ok is false.
func parseContentType(ct string) (media, charset, action string, ok bool) {
	if media, charset, action, ok = soapMediaType(ct); ok {
		return media, charset, action, true
	}
	m, params, err := mime.ParseMediaType(ct)
	if err == nil {
		if m != "text/xml" && m != "application/soap+xml" {
			return m, "", "", false
		}
		return m, params["charset"], params["action"], true
	}
	if quoted, changed := quoteBareAction(ct); changed {
		if media, charset, action, ok = soapMediaType(quoted); ok {
			return media, charset, action, true
		}
	}
	return m, "", "", false
}

// quoteBareAction rewrites `action=urn:x#Op` as `action="urn:x#Op"`: a bare
// value runs to the next ';' and may hold any visible ASCII but '"' and '\\'.
func quoteBareAction(ct string) (string, bool) {
	lower := strings.ToLower(ct)
	for from := 0; ; {
		i := strings.Index(lower[from:], "action")
		if i < 0 {
			return ct, false
		}
		i += from
		from = i + len("action")
		if j := strings.LastIndexFunc(ct[:i], func(r rune) bool { return r != ' ' && r != '\t' }); j < 0 || ct[j] != ';' {
			continue // "action" inside another parameter's value
		}
		rest := trimOWS(ct[from:])
		if rest == "" || rest[0] != '=' {
			continue
		}
		start := len(ct) - len(strings.TrimLeft(rest[1:], " \t"))
		end := start
		for end < len(ct) && ct[end] != ';' {
			end++
		}
		value := trimOWS(ct[start:end])
		if value == "" || value[0] == '"' {
			return ct, false
		}
		for k := 0; k < len(value); k++ {
			if c := value[k]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
				return ct, false
			}
		}
		return ct[:start] + `"` + value + `"` + ct[end:], true
	}
}

// unsupportedMedia is the 415 of a Content-Type that is not one of the two SOAP
// media types, or whose parameters do not parse.
func unsupportedMedia(ct, media string) error {
	var msg string
	switch {
	case ct == "":
		msg = "the request has no Content-Type: send text/xml; charset=utf-8 (SOAP 1.1, action in the SOAPAction header) " +
			"or application/soap+xml; charset=utf-8; action=\"...\" (SOAP 1.2)"
	case media == "text/xml" || media == "application/soap+xml":
		msg = fmt.Sprintf("the parameters of content type '%s' do not parse: expected charset=utf-8 and, for SOAP 1.2, "+
			"action=\"...\", each at most once, separated by ';'", ct)
	default:
		msg = fmt.Sprintf("content type '%s' is not a SOAP media type: expected text/xml (SOAP 1.1) or "+
			"application/soap+xml (SOAP 1.2), with charset=utf-8 or no charset", ct)
	}
	return &Error{Code: CodeMalformedRequest, Status: http.StatusUnsupportedMediaType, Message: msg}
}

func checkCharset(ct, charset string, v Version) error {
	// No charset: the XML itself says (UTF-8 unless its declaration says otherwise,
	// and the parser refuses anything but UTF-8).
	if charset == "" || strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8") {
		return nil
	}
	media := "text/xml"
	if v == V12 {
		media = "application/soap+xml"
	}
	msg := fmt.Sprintf("charset %q (content type '%s') is not supported: expected %s; charset=utf-8, or no charset",
		charset, ct, media)
	return &Error{Code: CodeMalformedRequest, Status: http.StatusUnsupportedMediaType, Message: msg}
}

// soapMediaType reads the Content-Type values SOAP clients send, such as
// `text/xml; charset=utf-8` or `application/soap+xml;charset=UTF-8;action="urn:x#Op"`,
// without the map and copies of mime.ParseMediaType. It gives up (ok false)
// on anything else: another media type, another parameter, a repeated one,
// escapes, RFC 2231 continuations, white space other than space and tab;
// mime.ParseMediaType then decides. Where it answers, it answers as mime does.
func soapMediaType(ct string) (media, charset, action string, ok bool) {
	end := 0
	for end < len(ct) && ct[end] != ';' {
		end++
	}
	switch base := trimOWS(ct[:end]); {
	case xmlparse.EqualFoldASCII(base, "text/xml"):
		media = "text/xml"
	case xmlparse.EqualFoldASCII(base, "application/soap+xml"):
		media = "application/soap+xml"
	default:
		return "", "", "", false
	}
	var haveCharset, haveAction bool
	rest := ct[end:]
	for {
		rest = trimOWS(rest)
		if rest == "" {
			return media, charset, action, true
		}
		if rest[0] != ';' {
			return "", "", "", false
		}
		if rest = trimOWS(rest[1:]); rest == "" {
			return media, charset, action, true // a trailing ';' is ignored
		}
		i := 0
		for i < len(rest) && isTokenByte(rest[i]) && rest[i] != '*' {
			i++
		}
		key := rest[:i]
		rest = trimOWS(rest[i:])
		if rest == "" || rest[0] != '=' {
			return "", "", "", false
		}
		rest = trimOWS(rest[1:])
		var value string
		if value, rest, ok = paramValue(rest); !ok {
			return "", "", "", false
		}
		switch {
		case xmlparse.EqualFoldASCII(key, "charset") && !haveCharset:
			charset, haveCharset = value, true
		case xmlparse.EqualFoldASCII(key, "action") && !haveAction:
			action, haveAction = value, true
		default:
			return "", "", "", false
		}
	}
}

// paramValue reads a token or a quoted string without escapes.
func paramValue(s string) (value, rest string, ok bool) {
	if s != "" && s[0] == '"' {
		for i := 1; i < len(s); i++ {
			switch c := s[i]; {
			case c == '"':
				return s[1:i], s[i+1:], true
			case c == '\\' || c < 0x20 || c > 0x7e:
				return "", "", false
			}
		}
		return "", "", false
	}
	i := 0
	for i < len(s) && isTokenByte(s[i]) {
		i++
	}
	return s[:i], s[i:], i > 0
}

func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isTokenByte is RFC 2045's token: printable ASCII but space and tspecials.
func isTokenByte(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=':
		return false
	}
	return true
}
