package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

const entityReview = store.EntityReview

const reviewColumns = `id, version, created_at, updated_at, created_by, updated_by, customer_id, product_id, stars, title, text`

// WriteReview runs one review write, with the product's rating, through runBatch (see store.ReviewStore).
func (db *DB) WriteReview(ctx context.Context, op store.ReviewOp, idem *store.IdempotencyRecord) (store.ReviewResult, error) {
	b := opBatch[store.ReviewOp, store.ReviewResult]{what: "reviews", ops: []store.ReviewOp{op}, allOrNone: true, idem: idem,
		run:    runReviewOp,
		errOf:  func(r store.ReviewResult) error { return r.Err },
		failed: func(err error) store.ReviewResult { return store.ReviewResult{Err: err} },
	}
	if idem != nil && idem.EncodeReviews != nil {
		b.encode = idem.EncodeReviews
	}
	rs, err := runBatch(ctx, db, b)
	if err != nil {
		return store.ReviewResult{}, err
	}
	return rs[0], nil
}

func runReviewOp(ctx context.Context, tx *sql.Tx, op store.ReviewOp) store.ReviewResult {
	var (
		r   store.Review
		p   store.Product
		err error
	)
	switch op.Kind {
	case store.OpAdd:
		r, p, err = addReview(ctx, tx, op.Review)
	case store.OpUpdate:
		r, p, err = updateReview(ctx, tx, op.Review, op.ExpectedVersion)
	case store.OpDelete:
		r, p, err = deleteReview(ctx, tx, op.ID, op.ExpectedVersion, op)
	default:
		err = fmt.Errorf("store: unknown review op kind %d", op.Kind)
	}
	if err != nil {
		return store.ReviewResult{Err: err}
	}
	return store.ReviewResult{Review: r, Product: p}
}

func addReview(ctx context.Context, tx *sql.Tx, r store.Review) (store.Review, store.Product, error) {
	for _, ref := range []struct {
		entity, probe string
		id            int64
	}{{store.EntityCustomer, `SELECT 1 FROM customers WHERE id = ?`, r.CustomerID}, {store.EntityProduct, `SELECT 1 FROM products WHERE id = ?`, r.ProductID}} {
		if found, err := exists(ctx, tx, ref.probe, ref.id); err != nil {
			return store.Review{}, store.Product{}, fmt.Errorf("store: add review: %w", err)
		} else if !found {
			return store.Review{}, store.Product{}, &store.MissingError{Entity: ref.entity}
		}
	}
	r.Version = 1
	err := tx.QueryRowContext(ctx, `INSERT INTO reviews (version, created_at, updated_at, created_by, updated_by,
		customer_id, product_id, stars, title, text) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		formatTime(r.CreatedAt), formatTime(r.UpdatedAt), nullString(r.CreatedBy), nullString(r.UpdatedBy),
		r.CustomerID, r.ProductID, r.Stars, nullString(r.Title), nullString(r.Text)).Scan(&r.ID)
	if isUniqueViolation(err) {
		return store.Review{}, store.Product{}, &store.DuplicateError{Entity: store.EntityReview, Field: "productId"}
	}
	if err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: add review: %w", err)
	}
	p, err := rate(ctx, tx, r.ProductID, int64(r.Stars), 1, r.CreatedAt, r.CreatedBy)
	if err != nil {
		return store.Review{}, store.Product{}, err
	}
	return r, p, reviewWritten(ctx, tx, r, OpCreate)
}

func updateReview(ctx context.Context, tx *sql.Tx, r store.Review, expectedVersion int64) (store.Review, store.Product, error) {
	old, err := scanReview(tx.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE id = ?`, r.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Review{}, store.Product{}, store.ErrNotFound
	}
	if err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: update review: %w", err)
	}
	if expectedVersion != 0 && old.Version != expectedVersion {
		return store.Review{}, store.Product{}, store.ErrConflict
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reviews SET version = version + 1, updated_at = ?, updated_by = ?, stars = ?,
		title = ?, text = ? WHERE id = ?`, formatTime(r.UpdatedAt), nullString(r.UpdatedBy), r.Stars, nullString(r.Title),
		nullString(r.Text), r.ID); err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: update review: %w", err)
	}
	out := old
	out.Version, out.UpdatedAt, out.UpdatedBy, out.Stars, out.Title, out.Text = old.Version+1, r.UpdatedAt, r.UpdatedBy, r.Stars, r.Title, r.Text
	p, err := rate(ctx, tx, old.ProductID, int64(r.Stars-old.Stars), 0, r.UpdatedAt, r.UpdatedBy)
	if err != nil {
		return store.Review{}, store.Product{}, err
	}
	return out, p, reviewWritten(ctx, tx, out, OpUpdate)
}

func deleteReview(ctx context.Context, tx *sql.Tx, id, expectedVersion int64, op store.ReviewOp) (store.Review, store.Product, error) {
	var productID, version, stars int64
	err := tx.QueryRowContext(ctx, `DELETE FROM reviews WHERE id = ? AND (? = 0 OR version = ?) RETURNING product_id, version, stars`,
		id, expectedVersion, expectedVersion).Scan(&productID, &version, &stars)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Review{}, store.Product{}, missingOrStale(ctx, tx, `SELECT 1 FROM reviews WHERE id = ?`, id)
	}
	if err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: delete review: %w", err)
	}
	p, err := rate(ctx, tx, productID, -stars, -1, op.At, op.Actor)
	if err != nil {
		return store.Review{}, store.Product{}, err
	}
	if err := recordChange(ctx, tx, Change{Entity: entityReview, EntityID: id, Op: OpDelete, Version: version + 1,
		At: op.At, Actor: op.Actor}); err != nil {
		return store.Review{}, store.Product{}, err
	}
	if err := writeFeed(ctx, tx, feedRow{entity: entityReview, kind: store.FeedDeleted, id: id, version: version + 1,
		at: op.At, actor: op.Actor}); err != nil {
		return store.Review{}, store.Product{}, err
	}
	return store.Review{ID: id, Version: version + 1, ProductID: productID}, p, nil
}

// deleteReviewsOf deletes every review of column = id (a customer's or a product's), each with its own
// change and its product's rating, in the caller's transaction.
func deleteReviewsOf(ctx context.Context, tx *sql.Tx, column string, id int64, op store.ReviewOp) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM reviews WHERE `+column+` = ?`, id)
	if err != nil {
		return fmt.Errorf("store: reviews of %s %d: %w", column, id, err)
	}
	var ids []int64
	for rows.Next() {
		var rid int64
		if err := rows.Scan(&rid); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, rid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, rid := range ids {
		if _, _, err := deleteReview(ctx, tx, rid, 0, op); err != nil {
			return err
		}
	}
	return nil
}

// rate adds stars and count to product id's rating and returns the product; a missing product (deleted
// with its reviews) is no error. The product's feed entry moves, at time at by actor: the rating is part
// of the product's state, so followers of the feed must see it change. The product's version stays (its
// writable fields did not change) and no change log row is written (the review's has it).
func rate(ctx context.Context, tx *sql.Tx, productID, stars, count int64, at time.Time, actor string) (store.Product, error) {
	var r productRow
	err := tx.QueryRowContext(ctx, `UPDATE products SET rating_sum = rating_sum + ?, rating_count = rating_count + ?
		WHERE id = ? RETURNING `+productColumns, stars, count, productID).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Product{}, nil
	}
	if err != nil {
		return store.Product{}, fmt.Errorf("store: rating of product %d: %w", productID, err)
	}
	p, err := r.product()
	if err != nil {
		return store.Product{}, err
	}
	err = writeFeed(ctx, tx, feedRow{entity: entityProduct, kind: store.FeedUpserted, id: p.ID, version: p.Version,
		at: at, actor: actor, externalID: p.SKU})
	return p, err
}

func reviewWritten(ctx context.Context, tx *sql.Tx, r store.Review, op string) error {
	at, actor := r.UpdatedAt, r.UpdatedBy
	if op == OpCreate {
		at, actor = r.CreatedAt, r.CreatedBy
	}
	if err := recordChange(ctx, tx, Change{Entity: entityReview, EntityID: r.ID, Op: op, Version: r.Version, At: at, Actor: actor}); err != nil {
		return err
	}
	return writeFeed(ctx, tx, feedRow{entity: entityReview, kind: store.FeedUpserted, id: r.ID, version: r.Version, at: at, actor: actor})
}

// GetReview returns review id. Errors: store.ErrNotFound.
func (db *DB) GetReview(ctx context.Context, id int64) (store.Review, error) {
	r, err := scanReview(db.read.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Review{}, store.ErrNotFound
	}
	if err != nil {
		return store.Review{}, fmt.Errorf("store: get review %d: %w", id, err)
	}
	return r, nil
}

// SearchReviews returns at most limit reviews matching f with ID > after, in ID order.
func (db *DB) SearchReviews(ctx context.Context, f store.ReviewFilter, after int64, limit int) ([]store.Review, error) {
	if limit <= 0 {
		limit = defaultSearchPage
	}
	limit = min(limit, maxSearchPage)
	var where strings.Builder
	args := []any{after}
	where.WriteString("id > ?")
	if f.ProductID != 0 {
		where.WriteString(" AND product_id = ?")
		args = append(args, f.ProductID)
	}
	if f.CustomerID != 0 {
		where.WriteString(" AND customer_id = ?")
		args = append(args, f.CustomerID)
	}
	if f.MinStars != 0 {
		where.WriteString(" AND stars >= ?")
		args = append(args, f.MinStars)
	}
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE `+where.String()+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search reviews: %w", err)
	}
	defer rows.Close()
	var out []store.Review
	for rows.Next() {
		r, err := scanReview(rows)
		if err != nil {
			return nil, fmt.Errorf("store: search reviews: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func scanReview(row interface{ Scan(...any) error }) (store.Review, error) {
	var r store.Review
	var created, updated string
	var createdBy, updatedBy, title, text sql.NullString
	if err := row.Scan(&r.ID, &r.Version, &created, &updated, &createdBy, &updatedBy, &r.CustomerID, &r.ProductID,
		&r.Stars, &title, &text); err != nil {
		return store.Review{}, err
	}
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return store.Review{}, err
	}
	if r.UpdatedAt, err = parseTime(updated); err != nil {
		return store.Review{}, err
	}
	r.CreatedBy, r.UpdatedBy, r.Title, r.Text = createdBy.String, updatedBy.String, title.String, text.String
	return r, nil
}
