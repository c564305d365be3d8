-- 0006: reviews, one per customer and product, and each product's exact rating: the integer sum of its
-- reviews' stars and their count, kept in the transaction of every review write (never an average that
-- could drift).

ALTER TABLE products ADD COLUMN rating_sum INTEGER NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL CHECK (version >= 1),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    created_by  TEXT,
    updated_by  TEXT,
    customer_id INTEGER NOT NULL,
    product_id  INTEGER NOT NULL,
    stars       INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    title       TEXT,
    text        TEXT,
    UNIQUE (customer_id, product_id)
);

CREATE INDEX reviews_product ON reviews (product_id, id);
