package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/crmsoap/crmsoap/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered SQL script; applying it brings the schema to version.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the embedded scripts in version order. They must be numbered 1, 2, 3, ... without
// gaps: a gap would mean a lost file, and the version in user_version would lie.
var migrations = mustLoadMigrations(migrationFiles)

// knownVersion is the newest schema version this binary can read and write.
var knownVersion = len(migrations)

func mustLoadMigrations(fsys fs.FS) []migration {
	ms, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	loaded, err := store.LoadMigrations(fsys)
	if err != nil {
		return nil, err
	}
	ms := make([]migration, len(loaded))
	for i, m := range loaded {
		ms[i] = migration{version: m.Version, name: m.Name, sql: m.SQL}
	}
	return ms, nil
}

// migrate refuses a schema newer than knownVersion and applies the missing migrations, each in its own
// transaction together with its user_version bump, so a crash leaves the schema at a whole version.
func migrate(ctx context.Context, conn *sql.Conn) error {
	have, err := userVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if have > knownVersion {
		return &store.SchemaTooNewError{Have: have, Known: knownVersion}
	}
	for _, m := range migrations[have:] {
		if err := applyMigration(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock): holds the write lock from the start
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	defer tx.Rollback()

	// Another process may have migrated between our first look and taking the write lock.
	have, err := userVersion(ctx, tx)
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	if have > knownVersion {
		return &store.SchemaTooNewError{Have: have, Known: knownVersion}
	}
	if have >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	// PRAGMA takes no bound parameters; m.version is an int from our own file names.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version)); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migration %s: commit: %w", m.name, err)
	}
	return nil
}

func userVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
