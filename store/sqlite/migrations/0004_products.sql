-- 0004: products. Prices are exact: price_minor is the amount in the currency's minor unit (an
-- integer, never a float); currency is the ISO 4217 code. Stock never goes below zero.

CREATE TABLE products (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    version             INTEGER NOT NULL CHECK (version >= 1),
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    created_by          TEXT,
    updated_by          TEXT,
    sku                 TEXT    NOT NULL UNIQUE CHECK (length(sku) > 0),
    name                TEXT    NOT NULL,
    name_fold           TEXT    NOT NULL,
    description         TEXT,
    category            TEXT,
    price_minor         INTEGER NOT NULL CHECK (typeof(price_minor) = 'integer' AND price_minor >= 0),
    currency            TEXT    NOT NULL CHECK (length(currency) = 3),
    stock               INTEGER NOT NULL CHECK (typeof(stock) = 'integer' AND stock >= 0),
    low_stock_threshold INTEGER NOT NULL CHECK (low_stock_threshold >= 0),
    active              INTEGER NOT NULL CHECK (active IN (0, 1))
);

CREATE INDEX products_category ON products (category, id);
CREATE INDEX products_low_stock ON products (id) WHERE stock <= low_stock_threshold;

-- Every AdjustStock, with the caller's reason: the stock's history, written with the change.
CREATE TABLE stock_movements (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL,
    delta      INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    actor      TEXT
);

CREATE INDEX stock_movements_product ON stock_movements (product_id, seq);
