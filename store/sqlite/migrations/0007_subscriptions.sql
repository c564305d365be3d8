-- 0007: push subscriptions. A subscription is a durable cursor over the change feed plus a sink: the
-- cursor is the last feed seq its sink acknowledged, stored with the delivery state in one row, so
-- advancing it is the only state change of a delivery.
CREATE TABLE subscriptions (
    name           TEXT    PRIMARY KEY,
    sink_kind      TEXT    NOT NULL,
    sink_config    TEXT    NOT NULL,
    entity         TEXT    NOT NULL DEFAULT '',
    cursor         INTEGER NOT NULL DEFAULT 0,
    state          TEXT    NOT NULL CHECK (state IN ('ACTIVE', 'PAUSED', 'FAILING')),
    created_at     TEXT    NOT NULL,
    last_success   TEXT,
    last_error     TEXT,
    last_error_at  TEXT
);
