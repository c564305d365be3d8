package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store/sqlite"
)

const backupUsage = `Usage: crmsoap backup [--db PATH] OUT

Writes a consistent copy of the database to the new file OUT with SQLite's online
backup API. The server may keep serving reads and writes meanwhile; the copy holds
every write acknowledged before the backup began. The copy is checked with
PRAGMA integrity_check. To restore, stop the server and start it on the copy:
  crmsoap serve --db OUT
`

// backup copies the database while it is in use.
func (m *Main) backup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, backupUsage); fs.PrintDefaults() }
	e := &envFlags{fs: fs, getenv: m.Getenv}
	var dbPath string
	e.String(&dbPath, "db", "CRMSOAP_DB", "./crm.db", "SQLite database file to copy (a PostgreSQL database is backed up with pg_dump)")
	if err := e.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return flag.ErrHelp
	}
	out := fs.Arg(0)
	if isPostgres(dbPath) {
		return errors.New("backup: --db is a PostgreSQL database: back it up with PostgreSQL's own tools, " +
			"e.g. pg_dump --format=custom --file=OUT URL (or continuous archiving for point-in-time recovery)")
	}
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return err
	}
	start := time.Now()
	err = db.Backup(ctx, out)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := integrityCheck(ctx, out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "backup of %s written to %s in %s; integrity_check ok\n", dbPath, out, time.Since(start).Round(time.Millisecond))
	return nil
}

// integrityCheck runs PRAGMA integrity_check on the SQLite file at path, read-only.
func integrityCheck(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("integrity_check of %s: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("integrity_check of %s: %s", path, result)
	}
	return nil
}
