-- 0003: ERP sync. The compacted change feed, case-folded names for search, indexes for the search
-- filters, the recorded outcomes of requests that may be retried (idempotency), and meta (server
-- secrets, the feed's tombstone horizon).

-- name_fold is crmsoap_fold(name): Unicode simple case folding done in Go (see fold.go), so that a
-- case-insensitive name search is a substring test on this column. NULL when name is NULL.
ALTER TABLE customers ADD COLUMN name_fold TEXT;
UPDATE customers SET name_fold = crmsoap_fold(name) WHERE name IS NOT NULL;

-- Keyset search walks the primary key (id > ? ORDER BY id); each exact filter has an index that yields
-- its matches in id order. external_id is UNIQUE since 0001.
CREATE INDEX customers_email      ON customers (email, id);
CREATE INDEX customers_company    ON customers (company, id);
CREATE INDEX customers_country    ON customers (country, id);
CREATE INDEX customers_updated_at ON customers (updated_at);

-- The compacted feed: one row per record, its latest write. Every write replaces the record's row in
-- the transaction of the write, so the new row takes the next seq: seq order is commit order, and a
-- reader following seq sees each record's latest state. DELETED rows are tombstones.
CREATE TABLE feed (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    entity      TEXT    NOT NULL,
    entity_id   INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('UPSERTED', 'DELETED')),
    version     INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    actor       TEXT,
    external_id TEXT,
    UNIQUE (entity, entity_id)
);

CREATE INDEX feed_tombstones ON feed (at) WHERE kind = 'DELETED';

-- The feed starts with every existing customer, in the order of its last logged change. (Customers
-- deleted before the feed existed leave no tombstone: no reader can have seen them through it.)
INSERT INTO feed (entity, entity_id, kind, version, at, actor, external_id)
SELECT 'customer', id, 'UPSERTED', version, updated_at, updated_by, external_id
FROM customers
ORDER BY (SELECT max(seq) FROM changes WHERE entity = 'customer' AND entity_id = customers.id), id;

-- The outcome of a write that carried a message id, replayed when the same client sends that id again.
-- client is '' for unauthenticated callers (a key column is never NULL).
CREATE TABLE idempotency (
    client       TEXT NOT NULL,
    message_id   TEXT NOT NULL CHECK (length(message_id) > 0),
    operation    TEXT NOT NULL,
    request_hash BLOB NOT NULL CHECK (length(request_hash) = 32),
    response     BLOB NOT NULL,
    expires      TEXT NOT NULL,
    PRIMARY KEY (client, message_id)
) WITHOUT ROWID;

CREATE INDEX idempotency_expires ON idempotency (expires);

-- Small named values: 'secret.<name>' (32 random bytes), 'feed.horizon' (the highest purged tombstone seq).
CREATE TABLE meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
