package sqlite

import (
	"context"
	"fmt"
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
// ID > after.ID, in ID order: a keyset page, as cheap at the millionth customer as at the first.
// NameContains is a substring of the name under Unicode simple case folding (see fold); it matches
// literally, so '%' and '_' are plain characters.
func (db *DB) SearchCustomers(ctx context.Context, f store.CustomerFilter, after store.CustomerKey, limit int) ([]store.Customer, error) {
	if limit <= 0 {
		limit = defaultSearchPage
	}
	limit = min(limit, maxSearchPage)
	var where strings.Builder
	args := []any{after.ID}
	where.WriteString("id > ?")
	for _, eq := range []struct{ column, value string }{
		{"external_id", f.ExternalID}, {"email", f.Email}, {"company", f.Company}, {"country", f.Country},
	} {
		if eq.value != "" {
			where.WriteString(" AND " + eq.column + " = ?") // column from the list above, never from input
			args = append(args, eq.value)
		}
	}
	if !f.UpdatedSince.IsZero() {
		where.WriteString(" AND updated_at >= ?") // fixed-width UTC text: text order is time order
		args = append(args, formatTime(f.UpdatedSince))
	}
	if f.NameContains != "" {
		// instr, not LIKE: the folded needle is data, with no wildcard characters to escape.
		where.WriteString(" AND instr(name_fold, ?) > 0")
		args = append(args, fold(f.NameContains))
	}
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, `SELECT `+packedColumns+` FROM customers WHERE `+where.String()+
		` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search customers: %w", err)
	}
	defer rows.Close()
	out := make([]store.Customer, 0, min(limit, 1024))
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: search customers: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search customers: %w", err)
	}
	return out, nil
}
