package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/crmsoap/crmsoap/store"
)

// Search page sizes: limit <= 0 means defaultSearchPage, more than maxSearchPage means maxSearchPage.
const (
	defaultSearchPage = 100
	maxSearchPage     = 10000
)

var _ store.Store = (*DB)(nil)

// SearchCustomers returns at most limit customers (<= 0: 100; at most 10000) matching f with
// ID > after.ID, in ID order: a keyset page. NameContains is a substring of the name under
// store.Fold, tested with strpos on name_fold: the needle is data, so '%', '_' and '\' match
// themselves with nothing to escape, and the match is the one SQLite makes.
func (db *DB) SearchCustomers(ctx context.Context, f store.CustomerFilter, after store.CustomerKey, limit int) ([]store.Customer, error) {
	if limit <= 0 {
		limit = defaultSearchPage
	}
	limit = min(limit, maxSearchPage)
	var where strings.Builder
	args := []any{after.ID}
	where.WriteString("c.id > $1")
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, eq := range []struct{ column, value string }{
		{"external_id", f.ExternalID}, {"email", f.Email}, {"company", f.Company}, {"country", f.Country},
	} {
		if eq.value != "" {
			where.WriteString(" AND c." + eq.column + " = " + arg(eq.value)) // column from the list above
		}
	}
	if !f.UpdatedSince.IsZero() {
		where.WriteString(" AND c.updated_at >= " + arg(nanos(f.UpdatedSince)))
	}
	if f.NameContains != "" {
		where.WriteString(" AND strpos(c.name_fold, " + arg(store.Fold(f.NameContains)) + ") > 0")
	}
	query := `SELECT ` + customerColumns + ` FROM customers c WHERE ` + where.String() + ` ORDER BY c.id LIMIT ` + arg(limit)
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search customers: %w", err)
	}
	defer rows.Close()
	out := make([]store.Customer, 0, min(limit, 1024))
	for rows.Next() {
		var r customerRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("store: search customers: %w", err)
		}
		out = append(out, r.customer())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search customers: %w", err)
	}
	return out, nil
}
