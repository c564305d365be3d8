package soap

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"testing"
)

// checkMediaType compares soapMediaType with mime.ParseMediaType wherever the
// fast path answers.
func checkMediaType(tb testing.TB, ct string) bool {
	tb.Helper()
	media, charset, action, ok := soapMediaType(ct)
	if !ok {
		return false
	}
	wantMedia, params, err := mime.ParseMediaType(ct)
	if err != nil {
		tb.Fatalf("%q: fast path gave %q %q %q, mime refuses it: %v", ct, media, charset, action, err)
	}
	wantCharset, hasCharset := params["charset"]
	wantAction, hasAction := params["action"]
	extra := len(params)
	if hasCharset {
		extra--
	}
	if hasAction {
		extra--
	}
	if media != wantMedia || charset != wantCharset || action != wantAction || extra != 0 {
		tb.Fatalf("%q: fast path %q charset %q action %q, mime %q %v", ct, media, charset, action, wantMedia, params)
	}
	return true
}

func TestSOAPMediaType(t *testing.T) {
	fast := []string{
		"text/xml", "text/xml; charset=utf-8", "text/xml;charset=UTF-8", "TEXT/XML ; Charset = \"utf-8\" ",
		"application/soap+xml; charset=utf-8; action=\"urn:example:toy#Echo\"", "application/soap+xml;action=x;charset=utf-8;",
		"application/soap+xml; action=\"\"", "text/xml; charset=iso-8859-1", "\ttext/xml\t;\tcharset=utf-8",
		"application/soap+xml; action=\"a b;c=d\"",
	}
	for _, ct := range fast {
		if !checkMediaType(t, ct) {
			t.Errorf("%q: not on the fast path", ct)
		}
	}
	slow := []string{
		"", "application/json", "text/xml; charset=utf-8; charset=utf-8", "text/xml; boundary=x",
		"text/xml; charset*=utf-8''x", "application/soap+xml; action=\"a\\\"b\"", "text/xml;; charset=utf-8",
		"text/xml; charset", "text/xml; charset=", "text/xml charset=utf-8", "text/xml\u00a0", "text/xml; action=\"x",
		"text/xml; charset=utf-8 x",
	}
	for _, ct := range slow {
		if checkMediaType(t, ct) {
			t.Errorf("%q: on the fast path, want mime.ParseMediaType", ct)
		}
	}
}

func FuzzSOAPMediaType(f *testing.F) {
	f.Add("application/soap+xml; charset=utf-8; action=\"urn:example:toy#Echo\"")
	f.Add("text/xml;charset=UTF-8;")
	f.Fuzz(func(t *testing.T, ct string) { checkMediaType(t, ct) })
}

func TestTransport(t *testing.T) {
	for _, tc := range []struct {
		ct, soapAction string
		version        Version
		action         string
		err            string // "" when accepted
	}{
		{ct: "text/xml; charset=utf-8", soapAction: `"urn:x#Op"`, version: V11, action: "urn:x#Op"},
		{ct: "text/xml", soapAction: "urn:x#Op", version: V11, action: "urn:x#Op"},
		{ct: `application/soap+xml; charset=utf-8; action="urn:x#Op"`, version: V12, action: "urn:x#Op"},
		// KDSoap: a bare action, which RFC 2045 does not allow for a value with ':' or '#'.
		{ct: "application/soap+xml;charset=utf-8;action=urn:x#Op", version: V12, action: "urn:x#Op"},
		{ct: "application/soap+xml; action = urn:x/P/Op ; charset=UTF-8", version: V12, action: "urn:x/P/Op"},
		{ct: "application/soap+xml; action=urn:x#Op", version: V12, action: "urn:x#Op"},
		{ct: "application/soap+xml; type=x; transaction=urn:a#b", version: V12,
			err: "the parameters of content type 'application/soap+xml; type=x; transaction=urn:a#b' do not parse"},
		{ct: "application/soap+xml; action=a\"b", version: V12,
			err: "the parameters of content type 'application/soap+xml; action=a\"b' do not parse"},
		{ct: "application/json", version: V11, err: "content type 'application/json' is not a SOAP media type"},
		{ct: "", version: V11, err: "the request has no Content-Type"},
		{ct: "application/soap+xml; charset=latin1; action=urn:x#Op", version: V12,
			err: `charset "latin1" (content type 'application/soap+xml; charset=latin1; action=urn:x#Op') is not supported`},
	} {
		hdr := http.Header{}
		if tc.ct != "" {
			hdr.Set("Content-Type", tc.ct)
		}
		if tc.soapAction != "" {
			hdr.Set("SOAPAction", tc.soapAction)
		}
		v, action, err := transport(hdr)
		if v != tc.version {
			t.Errorf("%q: version %v, want %v", tc.ct, v, tc.version)
		}
		if tc.err == "" {
			if err != nil || action != tc.action {
				t.Errorf("%q: action %q, err %v; want %q, nil", tc.ct, action, err, tc.action)
			}
			continue
		}
		var se *Error
		if !errors.As(err, &se) || se.Status != http.StatusUnsupportedMediaType || !strings.HasPrefix(se.Message, tc.err) {
			t.Errorf("%q: err %v, want 415 %q...", tc.ct, err, tc.err)
		}
	}
}

func TestQuoteBareAction(t *testing.T) {
	for in, want := range map[string]string{
		"application/soap+xml;action=urn:x#Op":                  `application/soap+xml;action="urn:x#Op"`,
		"application/soap+xml; action=urn:x#Op; charset=utf-8":  `application/soap+xml; action="urn:x#Op"; charset=utf-8`,
		"application/soap+xml; ACTION =\turn:x#Op":              "application/soap+xml; ACTION =\t\"urn:x#Op\"",
		`application/soap+xml; action="urn:x#Op"`:               "", // already quoted
		"application/soap+xml; type=action; x=urn:a":            "", // not the parameter
		"application/soap+xml; transaction=urn:a":               "",
		"application/soap+xml; action=":                         "",
		"application/soap+xml; action=a b":                      "",
		"application/soap+xml; charset=utf-8; xaction=urn:x#Op": "",
	} {
		got, changed := quoteBareAction(in)
		if want == "" {
			if changed {
				t.Errorf("%q: rewritten as %q, want unchanged", in, got)
			}
			continue
		}
		if !changed || got != want {
			t.Errorf("%q: %q (changed %v), want %q", in, got, changed, want)
		}
	}
}
