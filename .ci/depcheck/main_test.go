package main

import (
	"slices"
	"strings"
	"testing"
)

const mod = "example.com/crm"

// own are the first path elements of the module's packages in these tests.
var own = map[string]bool{"cmd": true, "internal": true, "report": true, "service": true, "soap": true, "store": true, "wsdl": true}

// graph builds packages of module mod from "pkg: imp imp ..." lines; an
// import written "test:imp" is a test import.
func graph(lines ...string) []pkg {
	var pkgs []pkg
	for _, l := range lines {
		name, imps, _ := strings.Cut(l, ":")
		p := pkg{ImportPath: mod + "/" + strings.TrimSpace(name), Module: &struct{ Path string }{mod}}
		for _, imp := range strings.Fields(imps) {
			test := strings.HasPrefix(imp, "test:")
			imp = strings.TrimPrefix(imp, "test:")
			if first, _, _ := strings.Cut(imp, "/"); own[first] {
				imp = mod + "/" + imp
			}
			if test {
				p.XTestImports = append(p.XTestImports, imp)
			} else {
				p.Imports = append(p.Imports, imp)
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// clean is a graph that keeps every rule of the real table.
var clean = []string{
	"cmd/crmsoap: wsdl soap soap/wssec service store store/sqlite net/http github.com/mattn/go-sqlite3",
	"wsdl: soap service encoding/xml github.com/hooklift/gowsdl/soap",
	"service: store net/mail test:store/sqlite test:testing",
	"store: context errors",
	"store/sqlite: store database/sql github.com/mattn/go-sqlite3 test:store/storetest",
	"store/storetest: store testing reflect",
	"soap: net/http github.com/beevik/etree soap/internal/xmlparse test:soap/wssec",
	"soap/internal/xmlparse: encoding/xml github.com/beevik/etree",
	"soap/wssec: soap github.com/beevik/etree github.com/russellhaering/goxmldsig github.com/russellhaering/goxmldsig/etreeutils",
}

func TestCheck_Clean(t *testing.T) {
	if msgs := check(graph(clean...), rules); len(msgs) > 0 {
		t.Errorf("violations in a graph that keeps the rules:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestCheck_Violations(t *testing.T) {
	for _, tt := range []struct {
		name, line string
		want       string // the one message expected
	}{
		{"ServiceTransport", "service: store net/http",
			"service imports net/http: service may import only std, store except net/http/... (the CRM knows no transport: no net/http, soap, wsdl or gowsdl)"},
		{"ServiceHTTPTest", "service: net/http/httptest", "service imports net/http/httptest: "},
		{"ServiceSOAP", "service: soap", "service imports soap: "},
		{"ServiceGowsdl", "service: github.com/hooklift/gowsdl/soap", "service imports github.com/hooklift/gowsdl/soap: "},
		{"StoreService", "store: service", "store imports service: store may import only std"},
		{"SQLiteService", "store/sqlite: store service", "store/sqlite imports service: "},
		{"StoretestSQLite", "store/storetest: store store/sqlite", "store/storetest imports store/sqlite: "},
		{"SoapStore", "soap: store", "soap imports store: soap may import only"},
		{"SoapWssecOutsideTests", "soap: soap/wssec", "soap imports soap/wssec: "},
		{"WssecWSDL", "soap/wssec: soap wsdl", "soap/wssec imports wsdl: "},
		{"XMLParseSoap", "soap/internal/xmlparse: soap", "soap/internal/xmlparse imports soap: "},
		{"WSDLStore", "wsdl: store", "wsdl imports store: "},
		{"TestImport", "store: test:service", "store tests import service: "},
		{"ImportsCmd", "wsdl: cmd/crmsoap", "wsdl imports cmd/crmsoap: nothing imports cmd"},
		{"UnknownPackage", "report: store", "report: no rule in the dependency table"},
		{"UnknownBelowCmd", "cmd/crmsoap/sub: store", "cmd/crmsoap/sub: no rule"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The violating package replaces its clean line, or is added.
			lines := slices.Clone(clean)
			name, _, _ := strings.Cut(tt.line, ":")
			lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, name+":") })
			msgs := check(graph(append(lines, tt.line)...), rules)
			if len(msgs) != 1 || !strings.HasPrefix(msgs[0], tt.want) {
				t.Errorf("messages:\n%s\nwant one starting %q", strings.Join(msgs, "\n"), tt.want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"store", "store", true}, {"store", "store/sqlite", false},
		{"cmd/*", "cmd/crmsoap", true}, {"cmd/*", "cmd/crmsoap/x", false}, {"cmd/*", "cmd", false},
		{"soap/internal/...", "soap/internal", true}, {"soap/internal/...", "soap/internal/xmlparse", true},
		{"soap/internal/...", "soap/internals", false},
	} {
		if got := matches(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matches(%q, %q) = %t, want %t", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestDecode_KeepsTheModule(t *testing.T) {
	in := `{"ImportPath":"fmt","Standard":true}
{"ImportPath":"github.com/beevik/etree","Module":{"Path":"github.com/beevik/etree"}}
{"ImportPath":"example.com/crm/store","Module":{"Path":"example.com/crm"},"Imports":["context"],"TestImports":["testing"]}`
	pkgs, err := decode(strings.NewReader(in), mod)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].ImportPath != mod+"/store" || !slices.Equal(pkgs[0].TestImports, []string{"testing"}) {
		t.Errorf("decoded %+v, want the store package alone with its test imports", pkgs)
	}
}
