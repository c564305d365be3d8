-- 0001: customers, their change log, and the registry of API clients.
--
-- Times are UTC text in RFC 3339 with nine fraction digits (fixed width, so text order is time order).
-- Optional text columns hold NULL, never ''.

CREATE TABLE customers (
    -- AUTOINCREMENT: an id is never handed out twice, even after a delete, so the change log stays unambiguous.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL CHECK (version >= 1),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    created_by  TEXT,
    updated_by  TEXT,
    external_id TEXT UNIQUE,
    name        TEXT,
    email       TEXT,
    phone       TEXT,
    gender      TEXT,
    company     TEXT,
    birth_date  TEXT CHECK (birth_date IS NULL OR birth_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    street      TEXT,
    city        TEXT,
    region      TEXT,
    postal_code TEXT,
    country     TEXT
);

-- One row per acknowledged write, in commit order; the base of a change feed.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    entity    TEXT    NOT NULL,
    entity_id INTEGER NOT NULL,
    op        TEXT    NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    version   INTEGER NOT NULL,
    at        TEXT    NOT NULL,
    actor     TEXT
);

CREATE INDEX changes_entity ON changes (entity, entity_id, seq);

CREATE TABLE clients (
    name        TEXT    NOT NULL PRIMARY KEY CHECK (length(name) > 0),
    cert_der    BLOB    NOT NULL CHECK (length(cert_der) > 0),
    cert_sha256 BLOB    NOT NULL UNIQUE CHECK (length(cert_sha256) = 32),
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at  TEXT    NOT NULL
);
