package reportsink

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// SchemaName is what a target schema name must match: a lower-case PostgreSQL identifier that needs
// no quoting (it is quoted all the same).
var SchemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Table names inside the target schema.
const (
	TableCustomers  = "customers"
	TableProducts   = "products"
	TableOrders     = "orders"
	TableOrderLines = "order_lines"
	TableReviews    = "reviews"
	TableCursor     = "crmsoap_cursor"
)

// ddl creates the sink's tables; %[1]s is the quoted schema. Every statement is idempotent.
// Strings hold the record's value as is (empty: not set); money is NUMERIC (exact) with its currency
// beside it; feed_seq is the feed entry that wrote the row.
const ddl = `
CREATE SCHEMA IF NOT EXISTS %[1]s;
CREATE TABLE IF NOT EXISTS %[1]s.customers (
	id BIGINT PRIMARY KEY,
	version BIGINT NOT NULL,
	external_id TEXT NOT NULL,
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	phone TEXT NOT NULL,
	gender TEXT NOT NULL,
	company TEXT NOT NULL,
	birth_date DATE,
	street TEXT NOT NULL,
	city TEXT NOT NULL,
	region TEXT NOT NULL,
	postal_code TEXT NOT NULL,
	country TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	created_by TEXT NOT NULL,
	updated_by TEXT NOT NULL,
	feed_seq BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS %[1]s.products (
	id BIGINT PRIMARY KEY,
	version BIGINT NOT NULL,
	sku TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL,
	category TEXT NOT NULL,
	price NUMERIC,
	currency TEXT NOT NULL,
	stock_quantity BIGINT NOT NULL,
	low_stock_threshold BIGINT NOT NULL,
	active BOOLEAN NOT NULL,
	rating_sum BIGINT NOT NULL,
	rating_count BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	created_by TEXT NOT NULL,
	updated_by TEXT NOT NULL,
	feed_seq BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS %[1]s.orders (
	id BIGINT PRIMARY KEY,
	version BIGINT NOT NULL,
	order_number TEXT NOT NULL,
	external_id TEXT NOT NULL,
	customer_id BIGINT NOT NULL,
	status TEXT NOT NULL,
	currency TEXT NOT NULL,
	total NUMERIC NOT NULL,
	note TEXT NOT NULL,
	placed_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	created_by TEXT NOT NULL,
	updated_by TEXT NOT NULL,
	feed_seq BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS %[1]s.order_lines (
	order_id BIGINT NOT NULL,
	line_no INTEGER NOT NULL,
	product_id BIGINT NOT NULL,
	sku TEXT NOT NULL,
	product_name TEXT NOT NULL,
	quantity BIGINT NOT NULL,
	unit_price NUMERIC NOT NULL,
	amount NUMERIC NOT NULL,
	currency TEXT NOT NULL,
	PRIMARY KEY (order_id, line_no)
);
CREATE TABLE IF NOT EXISTS %[1]s.reviews (
	id BIGINT PRIMARY KEY,
	version BIGINT NOT NULL,
	customer_id BIGINT NOT NULL,
	product_id BIGINT NOT NULL,
	stars INTEGER NOT NULL,
	title TEXT NOT NULL,
	text TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	created_by TEXT NOT NULL,
	updated_by TEXT NOT NULL,
	feed_seq BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS %[1]s.crmsoap_cursor (
	subscription TEXT PRIMARY KEY,
	seq BIGINT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
`

// ddlLockKey serializes the sinks creating tables on one target: two CREATE ... IF NOT EXISTS of the
// same object running at once may both miss it and one then fails on the catalog's unique index.
const ddlLockKey = 0x63726d736f6170 // "crmsoap"

// createTables creates the schema and the tables that are missing, in one transaction.
func (s *Sink) createTables(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("reportsink: create tables: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(ddlLockKey)); err != nil {
		return fmt.Errorf("reportsink: create tables: %w", err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(ddl, s.schema)); err != nil {
		return fmt.Errorf("reportsink: create tables in schema %s: %w", s.Schema, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("reportsink: create tables: %w", err)
	}
	return nil
}

// statements are the sink's SQL, built once with the quoted schema.
type statements struct {
	upsert, delete                      map[string]string // by feed entity
	deleteLines, insertLine             string
	ensureCursor, lockCursor, setCursor string
	readCursor                          string
}

func newStatements(schema string) statements {
	table := func(name string) string { return pgx.Identifier{schema, name}.Sanitize() }
	st := statements{upsert: map[string]string{}, delete: map[string]string{}}
	for entity, t := range tables {
		st.delete[entity] = `DELETE FROM ` + table(t) + ` WHERE id = $1`
	}
	st.upsert[store.EntityCustomer] = upsertSQL(table(TableCustomers), customerColumns)
	st.upsert[store.EntityProduct] = upsertSQL(table(TableProducts), productColumns)
	st.upsert[store.EntityOrder] = upsertSQL(table(TableOrders), orderColumns)
	st.upsert[store.EntityReview] = upsertSQL(table(TableReviews), reviewColumns)
	st.deleteLines = `DELETE FROM ` + table(TableOrderLines) + ` WHERE order_id = $1`
	st.insertLine = `INSERT INTO ` + table(TableOrderLines) + ` (order_id, line_no, product_id, sku, product_name,
		quantity, unit_price, amount, currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	cursor := table(TableCursor)
	st.ensureCursor = `INSERT INTO ` + cursor + ` (subscription, seq, updated_at) VALUES ($1, 0, now())
		ON CONFLICT (subscription) DO NOTHING`
	st.lockCursor = `SELECT seq FROM ` + cursor + ` WHERE subscription = $1 FOR UPDATE`
	st.setCursor = `UPDATE ` + cursor + ` SET seq = $2, updated_at = now() WHERE subscription = $1`
	st.readCursor = `SELECT seq FROM ` + cursor + ` WHERE subscription = $1`
	return st
}

// upsertSQL is INSERT ... ON CONFLICT (id) DO UPDATE of every column (the first is id) into table.
func upsertSQL(table string, cols []string) string {
	params := make([]string, len(cols))
	sets := make([]string, 0, len(cols)-1)
	for i, c := range cols {
		params[i] = fmt.Sprintf("$%d", i+1)
		if i > 0 {
			sets = append(sets, c+" = EXCLUDED."+c)
		}
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (id) DO UPDATE SET %s",
		table, strings.Join(cols, ", "), strings.Join(params, ", "), strings.Join(sets, ", "))
}
