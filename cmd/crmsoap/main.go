// Command crmsoap is the crmsoap binary: the SOAP server (serve) and its admin
// and client subcommands. It only wires the packages together; nothing imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	err := m.Run(ctx, os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crmsoap:", err)
		os.Exit(1)
	}
}

// Main runs one subcommand with the given standard streams and environment.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

const usage = `crmsoap: customer records over SOAP

Usage:
  crmsoap serve   [flags]   run the SOAP server
  crmsoap clients add|list|enable|disable|remove   manage the clients allowed to call
  crmsoap subscriptions add|list|status|pause|resume|remove   manage push subscriptions
  crmsoap keys new --name NAME                     create a key pair and self-signed certificate
  crmsoap call [flags] OPERATION [field=value ...]  call the server (signed with --key/--cert)
  crmsoap backup [--db PATH] OUT                   copy the database while the server runs
  crmsoap export --entity E --format F --out FILE [--since CURSOR]   write records to a file
  crmsoap import --entity E --format F [--dry-run] [--report R] FILE   upsert records from a file
  crmsoap migrate-db --from crm.db --to postgres://...   copy an SQLite database into PostgreSQL
  crmsoap version           print the version

Run 'crmsoap COMMAND -h' for the flags of a command.
`

// Run executes the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return m.serve(ctx, args[1:])
	case "clients":
		return m.clients(ctx, args[1:])
	case "subscriptions":
		return m.subscriptions(ctx, args[1:])
	case "call":
		return m.call(ctx, args[1:])
	case "keys":
		return m.keys(ctx, args[1:])
	case "backup":
		return m.backup(ctx, args[1:])
	case "export":
		return m.export(ctx, args[1:])
	case "import":
		return m.importFile(ctx, args[1:])
	case "migrate-db":
		return m.migrateDB(ctx, args[1:])
	case "version":
		fmt.Fprintln(m.Stdout, "crmsoap", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
