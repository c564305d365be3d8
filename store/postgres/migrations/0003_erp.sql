-- 0003: ERP sync. The compacted change feed, case-folded names for search, indexes for the search
-- filters, the recorded outcomes of requests that may be retried (idempotency), and meta (server
-- secrets, the feed's tombstone horizon).

-- name_fold is store.Fold(name), computed in Go (the migration fills it for existing rows after this
-- script, in the same transaction), so that a case-insensitive name search is a substring test on this
-- column that matches what SQLite matches. NULL when name is NULL.
ALTER TABLE customers ADD COLUMN name_fold text;

-- Keyset search walks the primary key (id > $1 ORDER BY id); each exact filter has an index that
-- yields its matches in id order. external_id is UNIQUE since 0001.
CREATE INDEX customers_email      ON customers (email, id);
CREATE INDEX customers_company    ON customers (company, id);
CREATE INDEX customers_country    ON customers (country, id);
CREATE INDEX customers_updated_at ON customers (updated_at);

-- The compacted feed: one row per record, its latest write. seq comes from feed_seq, and is taken only
-- while holding the feed's advisory lock, as the last statement before COMMIT (see feed.go): seq order
-- is commit order, across every node. DELETED rows are tombstones.
CREATE SEQUENCE feed_seq AS bigint;

CREATE TABLE feed (
    seq         bigint NOT NULL PRIMARY KEY,
    entity      text   NOT NULL,
    entity_id   bigint NOT NULL,
    kind        text   NOT NULL CHECK (kind IN ('UPSERTED', 'DELETED')),
    version     bigint NOT NULL,
    at          bigint NOT NULL,
    actor       text,
    external_id text,
    CONSTRAINT feed_entity_key UNIQUE (entity, entity_id)
);

CREATE INDEX feed_tombstones ON feed (at) WHERE kind = 'DELETED';

-- The feed starts with every existing customer, in the order of its last logged change.
INSERT INTO feed (seq, entity, entity_id, kind, version, at, actor, external_id)
SELECT row_number() OVER (ORDER BY (SELECT max(seq) FROM changes ch WHERE ch.entity = 'customer' AND ch.entity_id = c.id), c.id),
       'customer', c.id, 'UPSERTED', c.version, c.updated_at, c.updated_by, c.external_id
FROM customers c;
SELECT setval('feed_seq', max(seq)) FROM feed HAVING count(*) > 0;

-- The outcome of a write that carried a message id, replayed when the same client sends that id again.
-- client is '' for unauthenticated callers (a key column is never NULL).
CREATE TABLE idempotency (
    client       text        NOT NULL,
    message_id   text        NOT NULL CHECK (length(message_id) > 0),
    operation    text        NOT NULL,
    request_hash bytea       NOT NULL CHECK (length(request_hash) = 32),
    response     bytea       NOT NULL,
    expires      timestamptz NOT NULL,
    PRIMARY KEY (client, message_id)
);

CREATE INDEX idempotency_expires ON idempotency (expires);

-- Small named values: 'secret.<name>' (bytes: 32 random bytes), 'feed.horizon' (number: the highest
-- purged tombstone seq).
CREATE TABLE meta (
    name   text   NOT NULL PRIMARY KEY,
    bytes  bytea,
    number bigint,
    CHECK ((bytes IS NULL) <> (number IS NULL))
);
