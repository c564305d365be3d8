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

// keyset is a keyset search page's query: idColumn > after, the filters added with and, in id order,
// at most a page. Filter values are always arguments, never text of the query.
type keyset struct {
	idColumn string
	where    strings.Builder
	args     []any
}

func newKeyset(idColumn string, after int64) *keyset {
	k := &keyset{idColumn: idColumn, args: []any{after}}
	k.where.WriteString(idColumn + " > $1")
	return k
}

// and adds the condition cond, whose %s (if any) stands for the argument v.
func (k *keyset) and(cond string, v any) {
	if strings.Contains(cond, "%s") {
		k.args = append(k.args, v)
		cond = fmt.Sprintf(cond, "$"+strconv.Itoa(len(k.args)))
	}
	k.where.WriteString(" AND " + cond)
}

// pageSize is limit as a search page size: <= 0 is defaultSearchPage, at most maxSearchPage.
func pageSize(limit int) int {
	if limit <= 0 {
		return defaultSearchPage
	}
	return min(limit, maxSearchPage)
}

// query is selectFrom (SELECT ... FROM table alias) with the page's WHERE, order and limit (<= 0:
// defaultSearchPage; at most maxSearchPage).
func (k *keyset) query(selectFrom string, limit int) string {
	k.args = append(k.args, pageSize(limit))
	return selectFrom + ` WHERE ` + k.where.String() + ` ORDER BY ` + k.idColumn + ` LIMIT $` + strconv.Itoa(len(k.args))
}

// SearchCustomers returns at most limit customers (<= 0: 100; at most 10000) matching f with
// ID > after.ID, in ID order: a keyset page. NameContains is a substring of the name under
// store.Fold, tested with strpos on name_fold: the needle is data, so '%', '_' and '\' match
// themselves with nothing to escape, and the match is the one SQLite makes.
func (db *DB) SearchCustomers(ctx context.Context, f store.CustomerFilter, after store.CustomerKey, limit int) ([]store.Customer, error) {
	k := newKeyset("c.id", after.ID)
	for _, eq := range []struct{ column, value string }{
		{"external_id", f.ExternalID}, {"email", f.Email}, {"company", f.Company}, {"country", f.Country},
	} {
		if eq.value != "" {
			k.and("c."+eq.column+" = %s", eq.value) // column from the list above
		}
	}
	if !f.UpdatedSince.IsZero() {
		k.and("c.updated_at >= %s", nanos(f.UpdatedSince))
	}
	if f.NameContains != "" {
		k.and("strpos(c.name_fold, %s) > 0", store.Fold(f.NameContains))
	}
	query := k.query(`SELECT `+customerColumns+` FROM customers c`, limit)
	rows, err := db.pool.Query(ctx, query, k.args...)
	if err != nil {
		return nil, fmt.Errorf("store: search customers: %w", err)
	}
	defer rows.Close()
	out := make([]store.Customer, 0, min(pageSize(limit), 1024))
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
