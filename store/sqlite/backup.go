package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Backup writes a consistent copy of the database to the new file dst with SQLite's online backup API,
// while reads and writes continue. The copy holds every write acknowledged before Backup was called.
// dst must not exist; on failure it is removed.
func (db *DB) Backup(ctx context.Context, dst string) (err error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(dst)
			os.Remove(dst + "-journal")
		}
	}()

	// The copy is a plain rollback-journal file written with full fsync; it needs no -wal beside it.
	q := url.Values{"_synchronous": {"FULL"}, "_journal_mode": {"DELETE"}}
	ddb, err := sql.Open("sqlite3", fileURI(dst, q))
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	ddb.SetMaxOpenConns(1)
	err = copyInto(ctx, ddb, db.read)
	if cerr := ddb.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: backup to %s: %w", dst, err)
	}
	return nil
}

func copyInto(ctx context.Context, dstDB, srcDB *sql.DB) error {
	dconn, err := dstDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer dconn.Close()
	sconn, err := srcDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer sconn.Close()
	return dconn.Raw(func(d any) error {
		return sconn.Raw(func(s any) error {
			dc, ok1 := d.(*sqlite3.SQLiteConn)
			sc, ok2 := s.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not a go-sqlite3 connection")
			}
			return backupAll(ctx, dc, sc)
		})
	})
}

// backupAll copies every page in a single step, which reads the source in one read transaction: one
// snapshot, however busy the writer. (Copying in several steps would restart whenever the writer
// commits, and might never finish under load.)
func backupAll(ctx context.Context, dst, src *sqlite3.SQLiteConn) error {
	b, err := dst.Backup("main", src, "main")
	if err != nil {
		return err
	}
	for {
		done, err := b.Step(-1)
		if err != nil {
			b.Close()
			return err
		}
		if done {
			return b.Close()
		}
		// SQLITE_BUSY or SQLITE_LOCKED: try again soon unless the caller gave up.
		select {
		case <-ctx.Done():
			b.Close()
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
