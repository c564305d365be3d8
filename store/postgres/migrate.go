package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmsoap/crmsoap/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered SQL script; applying it brings the schema to version. after, when set,
// runs in the same transaction once the script has (work SQL cannot do, such as folding names in Go).
type migration struct {
	version int
	name    string
	sql     string
	after   func(ctx context.Context, tx pgx.Tx) error
}

// migrations are the embedded scripts in version order, numbered like SQLite's: 1, 2, 3, ... without
// gaps, each meaning the same schema step on both backends.
var migrations = mustLoadMigrations(migrationFiles)

// knownVersion is the newest schema version this binary can read and write.
var knownVersion = len(migrations)

// Advisory lock keys of this database ("crmsoap" and a number). migrateLock is held for a session
// while migrations run; feedLock inside each writing transaction (see feed.go).
const (
	migrateLock int64 = 0x63726d736f617001
	feedLock    int64 = 0x63726d736f617002
)

func mustLoadMigrations(fsys fs.FS) []migration {
	ms, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	for i := range ms {
		if ms[i].version == 3 {
			ms[i].after = foldNames
		}
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

// migrate applies the missing migrations, each in its own transaction together with its row in
// schema_migrations, so a crash leaves the schema at a whole version. It holds a session advisory lock
// throughout: nodes starting at once take turns, and the later ones find the work done. It returns how
// many migrations it applied, and *store.SchemaTooNewError for a schema newer than knownVersion.
func migrate(ctx context.Context, pool *pgxpool.Pool) (applied int, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return 0, fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock); uerr != nil {
			// The lock belongs to the session: close it rather than pool a connection that holds it.
			conn.Hijack().Close(context.Background())
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	have, err := schemaVersion(ctx, conn.Conn())
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	if have > knownVersion {
		return 0, &store.SchemaTooNewError{Have: have, Known: knownVersion}
	}
	for _, m := range migrations[have:] {
		if err := applyMigration(ctx, conn.Conn(), m); err != nil {
			return applied, err
		}
		applied++
	}
	return applied, nil
}

func applyMigration(ctx context.Context, conn *pgx.Conn, m migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// No arguments: pgx sends the script with the simple protocol, which runs every statement in it.
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	if m.after != nil {
		if err := m.after(ctx, tx); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: migration %s: commit: %w", m.name, err)
	}
	return nil
}

// foldNames fills name_fold for the customers that existed before migration 3.
func foldNames(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT id, name FROM customers WHERE name IS NOT NULL`)
	if err != nil {
		return err
	}
	type named struct {
		id   int64
		name string
	}
	var all []named
	for rows.Next() {
		var n named
		if err := rows.Scan(&n.id, &n.name); err != nil {
			rows.Close()
			return err
		}
		all = append(all, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range all {
		if _, err := tx.Exec(ctx, `UPDATE customers SET name_fold = $1 WHERE id = $2`, store.Fold(n.name), n.id); err != nil {
			return err
		}
	}
	return nil
}

func schemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
