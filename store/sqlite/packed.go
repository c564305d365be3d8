package sqlite

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
)

// The driver turns every TEXT column it returns into two allocations (the string and its interface
// value). The store's reads of customers therefore ask SQLite for the sixteen text columns packed into
// one: each as its length in bytes (-1 for NULL), a colon and its text. Decoding slices the one string.

// packedTextColumns are the text columns of the customers table, in the order customerRow.customer reads them.
var packedTextColumns = [...]string{"created_at", "updated_at", "created_by", "updated_by",
	"external_id", "name", "email", "phone", "gender", "company", "birth_date",
	"street", "city", "region", "postal_code", "country"}

// packedColumns and packedColumnsOf (the table aliased c) select id, version and the packed column.
var (
	packedColumns   = "id, version, " + packedText("")
	packedColumnsOf = "c.id, c.version, " + packedText("c.")
)

// packedText is the SQL expression of the packed column; prefix qualifies the column names.
func packedText(prefix string) string {
	parts := make([]string, len(packedTextColumns))
	for i, c := range packedTextColumns {
		c = prefix + c
		parts[i] = "ifnull(length(CAST(" + c + " AS BLOB)), -1) || ':' || ifnull(" + c + ", '')"
	}
	return strings.Join(parts, " || ")
}

// packedDest are the Scan destinations of packedColumns.
func (r *customerRow) packedDest() []any { return []any{&r.id, &r.version, &r.packed} }

// textDests are r's fields for packedTextColumns, in order.
func (r *customerRow) textDests() [len(packedTextColumns)]*sql.NullString {
	return [...]*sql.NullString{&r.createdAt, &r.updatedAt, &r.createdBy, &r.updatedBy,
		&r.ext, &r.name, &r.email, &r.phone, &r.gender, &r.company, &r.birth,
		&r.street, &r.city, &r.region, &r.postalCode, &r.country}
}

var errBadPacked = errors.New("malformed packed columns")

// unpack sets r's text fields from s, the packed column.
func (r *customerRow) unpack(s string) error {
	r.packed = ""
	for _, d := range r.textDests() {
		colon := strings.IndexByte(s, ':')
		if colon < 0 {
			return errBadPacked
		}
		n, err := strconv.Atoi(s[:colon])
		if err != nil || n < -1 || n > len(s)-colon-1 {
			return errBadPacked
		}
		s = s[colon+1:]
		if n < 0 {
			*d = sql.NullString{}
			continue
		}
		*d = sql.NullString{String: s[:n], Valid: true}
		s = s[n:]
	}
	if s != "" {
		return errBadPacked
	}
	return nil
}
