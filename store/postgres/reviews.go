package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// reviewColumns are the columns scanReview reads, of the table aliased rv.
const reviewColumns = `rv.id, rv.version, rv.created_at, rv.updated_at, coalesce(rv.created_by, ''),
	coalesce(rv.updated_by, ''), rv.customer_id, rv.product_id, rv.stars, coalesce(rv.title, ''), coalesce(rv.text, '')`

func scanReview(row pgx.Row) (store.Review, error) {
	var r store.Review
	var created, updated int64
	var stars int16
	if err := row.Scan(&r.ID, &r.Version, &created, &updated, &r.CreatedBy, &r.UpdatedBy, &r.CustomerID, &r.ProductID,
		&stars, &r.Title, &r.Text); err != nil {
		return store.Review{}, err
	}
	r.CreatedAt, r.UpdatedAt, r.Stars = fromNanos(created), fromNanos(updated), int(stars)
	return r, nil
}

// WriteReview runs one review write and its product's rating in one job of the writer (see
// store.ReviewStore). The rating is one UPDATE of the product row, so concurrent reviews of a product,
// on any node, add up exactly.
func (db *DB) WriteReview(ctx context.Context, op store.ReviewOp, idem *store.IdempotencyRecord) (store.ReviewResult, error) {
	c := opCall[store.ReviewOp, store.ReviewResult]{what: "reviews", ops: []store.ReviewOp{op}, idem: idem,
		run:    func(ctx context.Context, w *wtx, op store.ReviewOp) store.ReviewResult { return w.runReviewOp(ctx, op) },
		errOf:  func(r store.ReviewResult) error { return r.Err },
		failed: func(err error) store.ReviewResult { return store.ReviewResult{Err: err} },
	}
	if idem != nil {
		c.encode = idem.EncodeReviews
	}
	return one(ctx, db, c)
}

func (w *wtx) runReviewOp(ctx context.Context, op store.ReviewOp) store.ReviewResult {
	var (
		r   store.Review
		p   store.Product
		err error
	)
	switch op.Kind {
	case store.OpAdd:
		r, p, err = w.addReview(ctx, op.Review)
	case store.OpUpdate:
		r, p, err = w.updateReview(ctx, op.Review, op.ExpectedVersion)
	case store.OpDelete:
		r, p, err = w.deleteReview(ctx, op.ID, op.ExpectedVersion, nanos(op.At), op.Actor)
	default:
		err = fmt.Errorf("store: unknown review op kind %d", op.Kind)
	}
	if err != nil {
		return store.ReviewResult{Err: err}
	}
	return store.ReviewResult{Review: r, Product: p}
}

// addReview holds the customer (FOR KEY SHARE) and the product (the rating UPDATE) until it commits:
// a deletion of either on another node waits, and then deletes this review with them.
func (w *wtx) addReview(ctx context.Context, r store.Review) (store.Review, store.Product, error) {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	var found int
	err := w.QueryRow(ctx, `SELECT 1 FROM customers WHERE id = $1 FOR KEY SHARE`, r.CustomerID).Scan(&found)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Review{}, store.Product{}, &store.MissingError{Entity: store.EntityCustomer}
	}
	if err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: add review: %w", err)
	}
	p, err := w.rate(ctx, r.ProductID, int64(r.Stars), 1, nanos(r.CreatedAt), r.CreatedBy)
	if err != nil {
		return store.Review{}, store.Product{}, err
	}
	if p.ID == 0 {
		return store.Review{}, store.Product{}, &store.MissingError{Entity: store.EntityProduct}
	}
	r.Version = 1
	err = w.QueryRow(ctx, `INSERT INTO reviews (version, created_at, updated_at, created_by, updated_by, customer_id,
		product_id, stars, title, text) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (customer_id, product_id) DO NOTHING RETURNING id`,
		nanos(r.CreatedAt), nanos(r.UpdatedAt), nullString(r.CreatedBy), nullString(r.UpdatedBy), r.CustomerID,
		r.ProductID, r.Stars, nullString(r.Title), nullString(r.Text)).Scan(&r.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Review{}, store.Product{}, &store.DuplicateError{Entity: store.EntityReview, Field: "productId"}
	}
	if err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: add review: %w", err)
	}
	w.reviewWritten(r, opCreate)
	return r, p, nil
}

// updateReview locks the review (FOR UPDATE reads its latest committed version), checks the version and
// moves the rating by the change of stars.
func (w *wtx) updateReview(ctx context.Context, r store.Review, expectedVersion int64) (store.Review, store.Product, error) {
	old, err := scanReview(w.QueryRow(ctx, `SELECT `+reviewColumns+` FROM reviews rv WHERE rv.id = $1 FOR UPDATE`, r.ID))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Review{}, store.Product{}, store.ErrNotFound
	}
	if err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: update review: %w", err)
	}
	if expectedVersion != 0 && old.Version != expectedVersion {
		return store.Review{}, store.Product{}, store.ErrConflict
	}
	out := old
	out.Version, out.UpdatedAt, out.UpdatedBy, out.Stars, out.Title, out.Text = old.Version+1, r.UpdatedAt.UTC(),
		r.UpdatedBy, r.Stars, r.Title, r.Text
	if _, err := w.Exec(ctx, `UPDATE reviews SET version = $1, updated_at = $2, updated_by = $3, stars = $4, title = $5,
		text = $6 WHERE id = $7`, out.Version, nanos(out.UpdatedAt), nullString(out.UpdatedBy), out.Stars,
		nullString(out.Title), nullString(out.Text), out.ID); err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: update review: %w", err)
	}
	p, err := w.rate(ctx, old.ProductID, int64(r.Stars-old.Stars), 0, nanos(out.UpdatedAt), out.UpdatedBy)
	if err != nil {
		return store.Review{}, store.Product{}, err
	}
	w.reviewWritten(out, opUpdate)
	return out, p, nil
}

func (w *wtx) deleteReview(ctx context.Context, id, expectedVersion, at int64, actor string) (store.Review, store.Product, error) {
	var productID, version, stars int64
	err := w.QueryRow(ctx, `DELETE FROM reviews WHERE id = $1 AND ($2::bigint = 0 OR version = $2)
		RETURNING product_id, version, stars`, id, expectedVersion).Scan(&productID, &version, &stars)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Review{}, store.Product{}, w.missingOrStale(ctx, `SELECT EXISTS (SELECT 1 FROM reviews WHERE id = $1)`, id)
	}
	if err != nil {
		return store.Review{}, store.Product{}, fmt.Errorf("store: delete review: %w", err)
	}
	p, err := w.rate(ctx, productID, -stars, -1, at, actor)
	if err != nil {
		return store.Review{}, store.Product{}, err
	}
	w.reviewDeleted(id, version+1, at, actor)
	return store.Review{ID: id, Version: version + 1, ProductID: productID}, p, nil
}

// deleteReviewsOf deletes every review whose column (customer_id or product_id) is id, each with its
// tombstone, and takes them out of their products' ratings: two statements whatever their number.
func (w *wtx) deleteReviewsOf(ctx context.Context, column string, id, at int64, actor string) error {
	type gone struct{ id, product, version, stars int64 }
	rows, err := w.Query(ctx, `DELETE FROM reviews WHERE `+column+` = $1 RETURNING id, product_id, version, stars`, id)
	var deleted []gone
	if err == nil {
		deleted, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (gone, error) {
			var g gone
			err := row.Scan(&g.id, &g.product, &g.version, &g.stars)
			return g, err
		})
	}
	if err != nil {
		w.note(err)
		return fmt.Errorf("store: reviews of %s %d: %w", column, id, err)
	}
	if len(deleted) == 0 {
		return nil
	}
	products, stars := make([]int64, len(deleted)), make([]int64, len(deleted))
	for i, g := range deleted {
		products[i], stars[i] = g.product, g.stars
		w.reviewDeleted(g.id, g.version+1, at, actor)
	}
	if column == "product_id" {
		return nil // the product is gone with its rating
	}
	rows, err = w.Query(ctx, `UPDATE products p SET rating_sum = rating_sum - d.stars, rating_count = rating_count - d.n
		FROM (SELECT u.product_id, sum(u.stars) AS stars, count(*) AS n
			FROM unnest($1::bigint[], $2::bigint[]) AS u(product_id, stars) GROUP BY u.product_id) d
		WHERE p.id = d.product_id RETURNING p.id, p.version, p.sku`, products, stars)
	type rated struct {
		id, version int64
		sku         string
	}
	var changed []rated
	if err == nil {
		changed, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (rated, error) {
			var r rated
			err := row.Scan(&r.id, &r.version, &r.sku)
			return r, err
		})
	}
	if err != nil {
		w.note(err)
		return fmt.Errorf("store: ratings after deleting the reviews of %s %d: %w", column, id, err)
	}
	for _, r := range changed {
		w.ratingChanged(r.id, r.version, r.sku, at, actor)
	}
	return nil
}

// rate adds stars and count to product id's rating and returns the product; a missing product (deleted,
// or never there) is the zero Product. The product's feed entry moves (ratingChanged), at time at by
// actor, so that feed followers see the new rating.
func (w *wtx) rate(ctx context.Context, productID, stars, count, at int64, actor string) (store.Product, error) {
	p, err := scanProduct(w.QueryRow(ctx, `UPDATE products p SET rating_sum = rating_sum + $1,
		rating_count = rating_count + $2 WHERE id = $3 RETURNING `+productColumns, stars, count, productID))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Product{}, nil
	}
	if err != nil {
		return store.Product{}, fmt.Errorf("store: rating of product %d: %w", productID, err)
	}
	w.ratingChanged(p.ID, p.Version, p.SKU, at, actor)
	return p, nil
}

// ratingChanged queues a feed entry for product id, whose rating a review write moved: the rating is
// part of the product's state, so followers of the feed must see it change. The product's version
// stays (its writable fields did not change) and no change log row is written (the review's has it).
func (w *wtx) ratingChanged(id, version int64, sku string, at int64, actor string) {
	w.feed = append(w.feed, feedRow{entity: store.EntityProduct, feedOnly: true, kind: store.FeedUpserted, id: id,
		version: version, at: at, actor: nullString(actor), externalID: nullString(sku)})
}

func (w *wtx) reviewWritten(r store.Review, op string) {
	at, actor := r.UpdatedAt, r.UpdatedBy
	if op == opCreate {
		at, actor = r.CreatedAt, r.CreatedBy
	}
	w.feed = append(w.feed, feedRow{entity: store.EntityReview, op: op, kind: store.FeedUpserted, id: r.ID,
		version: r.Version, at: nanos(at), actor: nullString(actor)})
}

func (w *wtx) reviewDeleted(id, version, at int64, actor string) {
	w.feed = append(w.feed, feedRow{entity: store.EntityReview, op: opDelete, kind: store.FeedDeleted, id: id,
		version: version, at: at, actor: nullString(actor)})
}

// GetReview returns review id. Errors: store.ErrNotFound.
func (db *DB) GetReview(ctx context.Context, id int64) (store.Review, error) {
	r, err := scanReview(db.pool.QueryRow(ctx, `SELECT `+reviewColumns+` FROM reviews rv WHERE rv.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Review{}, store.ErrNotFound
	}
	if err != nil {
		return store.Review{}, fmt.Errorf("store: get review %d: %w", id, err)
	}
	return r, nil
}

// reviewsByID reads those of the reviews ids that exist.
func (db *DB) reviewsByID(ctx context.Context, ids []int64) (map[int64]store.Review, error) {
	out := make(map[int64]store.Review, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	got, err := db.queryReviews(ctx, `SELECT `+reviewColumns+` FROM reviews rv WHERE rv.id = ANY($1)`, ids)
	for _, r := range got {
		out[r.ID] = r
	}
	return out, err
}

func (db *DB) queryReviews(ctx context.Context, sql string, args ...any) ([]store.Review, error) {
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reviews: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Review, error) { return scanReview(row) })
	if err != nil {
		return nil, fmt.Errorf("store: reviews: %w", err)
	}
	return out, nil
}

// SearchReviews returns at most limit reviews (<= 0: 100; at most 10000) matching f with ID > after, in
// ID order.
func (db *DB) SearchReviews(ctx context.Context, f store.ReviewFilter, after int64, limit int) ([]store.Review, error) {
	k := newKeyset("rv.id", after)
	if f.ProductID != 0 {
		k.and("rv.product_id = %s", f.ProductID)
	}
	if f.CustomerID != 0 {
		k.and("rv.customer_id = %s", f.CustomerID)
	}
	if f.MinStars != 0 {
		k.and("rv.stars >= %s", f.MinStars)
	}
	query := k.query(`SELECT `+reviewColumns+` FROM reviews rv`, limit)
	return db.queryReviews(ctx, query, k.args...)
}
