package soap

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
	case eqFoldASCII(base, "text/xml"):
		media = "text/xml"
	case eqFoldASCII(base, "application/soap+xml"):
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
		case eqFoldASCII(key, "charset") && !haveCharset:
			charset, haveCharset = value, true
		case eqFoldASCII(key, "action") && !haveAction:
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
