package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

const exportUsage = `Usage: crmsoap export --entity customers|products|orders|reviews --format csv|jsonl|xml --out FILE [--since CURSOR] [flags]

Writes every record of the entity (or, with --since, those changed after the
cursor) to FILE by following GetChanges until hasMore is false, then prints the
cursor for the next incremental export on stdout. Deleted records are not
written (the file holds records, not changes). FILE appears only when complete.
An order's lines are nested (XML, JSON Lines) or one CSV row per line with the
order's fields repeated and line.* columns.
`

// fileClientFlags are the connection flags of export and import.
type fileClientFlags struct {
	url, key, cert, serverCert string
	timeout                    time.Duration
	entity, format             string
	importing                  bool // import: only the entities with a bulk upsert
}

func (c *fileClientFlags) register(e *envFlags) {
	e.String(&c.url, "url", "CRMSOAP_URL", "http://127.0.0.1:8080/soap", "SOAP endpoint")
	e.String(&c.key, "key", "CRMSOAP_CLIENT_KEY", "", "PEM private key to sign requests with")
	e.String(&c.cert, "cert", "CRMSOAP_CLIENT_CERT", "", "PEM certificate of that key")
	e.String(&c.serverCert, "server-cert", "CRMSOAP_SERVER_CERT", "", "PEM certificate the server signs responses with")
	e.Duration(&c.timeout, "timeout", "CRMSOAP_TIMEOUT", 60*time.Second, "timeout of one request")
	e.fs.StringVar(&c.entity, "entity", "", "the records: customers or products (import); customers, products, orders or reviews (export)")
	e.fs.StringVar(&c.format, "format", "", "file format: csv, jsonl or xml")
}

// check validates the flags and returns the entity, the format and a
// function making clients of the server.
func (c *fileClientFlags) check() (*fileEntity, records.Format, func() *gowsdlsoap.Client, error) {
	ent, err := lookupEntity(c.entity, c.importing)
	if err != nil {
		return nil, "", nil, err
	}
	f, err := records.ParseFormat(c.format)
	if err != nil {
		return nil, "", nil, err
	}
	if u, err := url.Parse(c.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", nil, fmt.Errorf("--url %q: want an http:// or https:// URL", c.url)
	}
	doer, err := newClientTransport(c.key, c.cert, c.serverCert)
	if err != nil {
		return nil, "", nil, err
	}
	return ent, f, func() *gowsdlsoap.Client {
		return gowsdlsoap.NewClient(c.url, gowsdlsoap.WithHTTPClient(doer), gowsdlsoap.WithTimeout(c.timeout))
	}, nil
}

func (m *Main) export(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, exportUsage); fs.PrintDefaults() }
	e := &envFlags{fs: fs, getenv: m.Getenv}
	var c fileClientFlags
	c.register(e)
	var out, since string
	fs.StringVar(&out, "out", "", "the file to write")
	fs.StringVar(&since, "since", "", "a cursor printed by an earlier export: write only what changed after it")
	if err := e.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export: unexpected argument %q", fs.Arg(0))
	}
	ent, format, newClient, err := c.check()
	if err != nil {
		return err
	}
	if out == "" {
		return errors.New("export: --out FILE is required")
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w, err := records.NewWriter(format, &ent.Entity, tmp)
	if err != nil {
		return err
	}
	p := newProgress(m.Stderr, "exported", 0)
	cursor, deleted, err := exportChanges(ctx, wsdl.NewCrmPortType(newClient()), ent, w, since, p)
	if err != nil {
		return describeCallError(err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	p.done(fmt.Sprintf("%d deletions skipped", deleted))
	fmt.Fprintln(m.Stdout, cursor)
	return nil
}

// exportChanges writes the records of the changes after cursor and returns the
// cursor after the last one and how many deletions it skipped.
func exportChanges(ctx context.Context, c wsdl.CrmPortType, ent *fileEntity, w records.Writer, cursor string,
	p *progress) (string, int, error) {
	values := make([]string, len(ent.Fields))
	var lines [][]string
	max := wsdl.MaxChanges(1000)
	deleted := 0
	for {
		resp, err := c.GetChangesContext(ctx, &wsdl.GetChanges{Cursor: cursor, MaxChanges: &max})
		if err != nil {
			return "", 0, err
		}
		for _, ch := range resp.Change {
			if ch.Entity == nil || *ch.Entity != ent.wire {
				continue
			}
			if ch.Kind != nil && *ch.Kind == wsdl.ChangeKindDELETED {
				deleted++
				continue
			}
			if !ent.row(ch, values) {
				continue
			}
			if ent.lines != nil {
				lines = ent.lines(ch, lines)
			}
			if err := w.WriteLines(values, lines); err != nil {
				return "", 0, fmt.Errorf("export: %w", err)
			}
			p.add(1)
		}
		if resp.NextCursor == "" {
			return "", 0, errors.New("export: the server sent no nextCursor")
		}
		cursor = resp.NextCursor
		if resp.HasMore == nil || !*resp.HasMore {
			return cursor, deleted, nil
		}
	}
}
