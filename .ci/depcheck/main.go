// Command depcheck checks every package of the module against the dependency
// table below: which packages each one may import, tests included. A package
// the table does not know fails the check, so a new package comes with its
// rule. `make lint` runs it; it prints one line per forbidden import.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// rule says what the packages matching pkg may import.
//
// Patterns: "store" is that package of the module, "cmd/*" every package one
// level below cmd, "soap/internal/..." that package and every one below it.
// In allow, deny and tests, "std" is the standard library and "*" anything;
// other entries are packages of the module (relative, as in pkg) or
// third-party import paths, with the same "/..." suffix.
type rule struct {
	pkg   string
	allow []string
	deny  []string // refused even when allow matches (a standard package a layer must not reach)
	tests []string // what its tests may import besides allow (the package itself is always allowed to them)
	why   string   // the package's job, printed with a violation
}

// rules is the dependency table; docs/ARCHITECTURE.md draws it. The first rule
// whose pkg matches applies.
var rules = []rule{
	{pkg: "cmd/*", allow: []string{"*"},
		why: "commands wire everything together"},
	{pkg: "cmd/internal/keypair", allow: []string{"std"},
		why: "key pairs and PEM files for the commands"},
	{pkg: "cmd/internal/natssink", allow: []string{"std", "store", "wsdl/notify", "github.com/nats-io/nats.go/..."},
		tests: []string{"store/...", "service", "service/push", "cmd/internal/natssink/natstest"},
		why:   "the NATS JetStream sink of push subscriptions"},
	{pkg: "cmd/internal/natssink/natstest", allow: []string{"std", "github.com/nats-io/nats.go/..."},
		why: "a NATS JetStream server for tests"},
	{pkg: "cmd/internal/reportsink", allow: []string{"std", "store", "service", "github.com/jackc/pgx/v5/..."},
		tests: []string{"store/postgres/pgtest"},
		why:   "the reporting-database sink of push subscriptions: records into a target PostgreSQL schema"},
	{pkg: "cmd/internal/records", allow: []string{"std"},
		why: "the file formats of import and export"},
	{pkg: "wsdl", allow: []string{"std", "soap", "service", "github.com/hooklift/gowsdl/soap"},
		why: "the SOAP facade: generated types and the adapter to service"},
	{pkg: "wsdl/notify", allow: []string{"std", "store", "service", "soap/wssec", "github.com/beevik/etree"}, tests: []string{"store/...", "service/push"},
		why: "the SOAP listener sink of push subscriptions: its own small contract (records rendered from service's domain view), signed with soap/wssec"},
	{pkg: "service", allow: []string{"std", "store"}, deny: []string{"net/http/..."}, tests: []string{"store/..."},
		why: "the CRM knows no transport: no net/http, soap, wsdl or gowsdl"},
	{pkg: "service/push", allow: []string{"std", "store"}, deny: []string{"net/http/..."}, tests: []string{"store/..."},
		why: "delivery of the change feed to subscriptions; sinks are injected, so no transport"},
	{pkg: "store", allow: []string{"std"}, deny: []string{"database/sql/..."},
		why: "records, errors and interfaces; the backends sit below it"},
	{pkg: "store/storetest", allow: []string{"std", "store"}, deny: []string{"database/sql/..."},
		why: "the behaviour suite every store backend runs"},
	{pkg: "store/sqlite", allow: []string{"std", "store", "github.com/mattn/go-sqlite3"}, tests: []string{"store/storetest"},
		why: "the SQLite backend: never service, soap or wsdl"},
	{pkg: "store/postgres", allow: []string{"std", "store", "github.com/jackc/pgx/v5/..."},
		tests: []string{"store/storetest", "store/postgres/pgtest"},
		why:   "the PostgreSQL backend: never service, soap or wsdl"},
	{pkg: "store/postgres/pgtest", allow: []string{"std", "github.com/jackc/pgx/v5"},
		why: "a throwaway PostgreSQL server and fresh databases for tests"},
	{pkg: "soap/internal/...", allow: []string{"std", "github.com/beevik/etree"},
		why: "the SOAP server's own internals"},
	{pkg: "soap", allow: []string{"std", "github.com/beevik/etree", "github.com/russellhaering/goxmldsig/...", "soap/internal/..."},
		tests: []string{"soap/wssec"},
		why:   "a generic SOAP server: no CRM package (service, store, wsdl)"},
	{pkg: "soap/wssec", allow: []string{"std", "github.com/beevik/etree", "github.com/russellhaering/goxmldsig/...", "soap", "soap/internal/..."},
		why: "generic WS-Security: no CRM package (service, store, wsdl)"},
}

// pkg is what depcheck reads of `go list -json`.
type pkg struct {
	ImportPath   string
	Module       *struct{ Path string }
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func main() {
	pkgs, err := load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "depcheck:", err)
		os.Exit(2)
	}
	if msgs := check(pkgs, rules); len(msgs) > 0 {
		for _, m := range msgs {
			fmt.Fprintln(os.Stderr, "depcheck:", m)
		}
		os.Exit(1)
	}
	fmt.Printf("depcheck: %d packages keep the dependency table\n", len(pkgs))
}

// load lists the module's packages with their imports.
func load() ([]pkg, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.Bytes())
	}
	mod, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m: %v", err)
	}
	return decode(bytes.NewReader(out), strings.TrimSpace(string(mod)))
}

// decode reads a stream of go list JSON objects and keeps those of module mod.
func decode(r io.Reader, mod string) ([]pkg, error) {
	var pkgs []pkg
	dec := json.NewDecoder(r)
	for {
		var p pkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return pkgs, nil
		}
		if err != nil {
			return nil, err
		}
		if p.Module != nil && p.Module.Path == mod {
			pkgs = append(pkgs, p)
		}
	}
}

// check returns one message per forbidden import and per package without a
// rule, sorted. All pkgs belong to one module, the one of the first.
func check(pkgs []pkg, rules []rule) []string {
	var msgs []string
	for _, p := range pkgs {
		mod := p.Module.Path
		rel := relative(mod, p.ImportPath)
		r, ok := ruleFor(rules, rel)
		if !ok {
			msgs = append(msgs, fmt.Sprintf("%s: no rule in the dependency table (.ci/depcheck/main.go): add one saying what it may import", rel))
			continue
		}
		seen := map[string]bool{}
		for _, imps := range []struct {
			list []string
			test bool
		}{{p.Imports, false}, {p.TestImports, true}, {p.XTestImports, true}} {
			for _, imp := range imps.list {
				if seen[imp] || imps.test && imp == p.ImportPath {
					continue
				}
				seen[imp] = true
				if m := forbidden(r, rel, mod, imp, imps.test); m != "" {
					msgs = append(msgs, m)
				}
			}
		}
	}
	sort.Strings(msgs)
	return msgs
}

// forbidden returns why package rel (under rule r) must not import imp, or "".
func forbidden(r rule, rel, mod, imp string, test bool) string {
	name := imp
	if inModule(mod, imp) {
		name = relative(mod, imp)
		// cmd/internal/... is shared by the commands and only by them (Go enforces that).
		if matches("cmd/...", name) && !matches("cmd/internal/...", name) {
			return fmt.Sprintf("%s imports %s: nothing imports cmd", rel, name)
		}
	}
	std := isStd(imp)
	allowed := matchesAny(r.allow, name, std) || test && matchesAny(r.tests, name, std)
	if allowed && !matchesAny(r.deny, name, std) {
		return ""
	}
	what := "imports"
	if test {
		what = "tests import"
	}
	may := strings.Join(r.allow, ", ")
	if len(r.deny) > 0 {
		may += " except " + strings.Join(r.deny, ", ")
	}
	if test && len(r.tests) > 0 {
		may += "; its tests also " + strings.Join(r.tests, ", ")
	}
	return fmt.Sprintf("%s %s %s: %s may import only %s (%s)", rel, what, name, r.pkg, may, r.why)
}

func ruleFor(rules []rule, rel string) (rule, bool) {
	for _, r := range rules {
		if matches(r.pkg, rel) {
			return r, true
		}
	}
	return rule{}, false
}

func matchesAny(patterns []string, name string, std bool) bool {
	for _, p := range patterns {
		if p == "*" || p == "std" && std || matches(p, name) {
			return true
		}
	}
	return false
}

// matches reports whether name fits pattern: exact, "dir/*" one level below
// dir, or "dir/..." dir and everything below it.
func matches(pattern, name string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return name == dir || strings.HasPrefix(name, dir+"/")
	}
	if dir, ok := strings.CutSuffix(pattern, "/*"); ok {
		rest, ok := strings.CutPrefix(name, dir+"/")
		return ok && rest != "" && !strings.Contains(rest, "/")
	}
	return pattern == name
}

func inModule(mod, path string) bool { return path == mod || strings.HasPrefix(path, mod+"/") }

func relative(mod, path string) string {
	if path == mod {
		return "."
	}
	return strings.TrimPrefix(path, mod+"/")
}

// isStd reports whether path is a standard library package: its first element
// has no dot (the rule the go command itself applies).
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
