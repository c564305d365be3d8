package soap

import (
	"mime"
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
