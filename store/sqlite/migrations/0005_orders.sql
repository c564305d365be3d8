-- 0005: orders and their lines. Amounts are integer minor units of the order's currency. Lines copy the
-- product's sku, name and unit price when the order is placed: later catalogue changes do not rewrite
-- history. Products and customers on orders are not deleted (the store refuses it).

CREATE TABLE orders (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    version      INTEGER NOT NULL CHECK (version >= 1),
    order_number TEXT    UNIQUE,
    external_id  TEXT    UNIQUE,
    customer_id  INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('PLACED', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
    placed_at    TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    created_by   TEXT,
    updated_by   TEXT,
    currency     TEXT    NOT NULL CHECK (length(currency) = 3),
    total_minor  INTEGER NOT NULL CHECK (typeof(total_minor) = 'integer' AND total_minor >= 0),
    note         TEXT
);

CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_placed_at ON orders (placed_at);

CREATE TABLE order_lines (
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    line_no      INTEGER NOT NULL CHECK (line_no >= 1),
    product_id   INTEGER NOT NULL,
    sku          TEXT    NOT NULL,
    product_name TEXT    NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    unit_minor   INTEGER NOT NULL CHECK (unit_minor >= 0),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;

CREATE INDEX order_lines_product ON order_lines (product_id);
