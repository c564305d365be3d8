-- 0007: push subscriptions. A subscription is a durable cursor over the change feed plus a sink: the
-- cursor is the last feed seq its sink acknowledged, stored with the delivery state in one row, so
-- advancing it is the only state change of a delivery. Times are bigint nanoseconds (see 0001).
CREATE TABLE subscriptions (
    name           text   PRIMARY KEY,
    sink_kind      text   NOT NULL,
    sink_config    text   NOT NULL,
    entity         text   NOT NULL DEFAULT '',
    cursor         bigint NOT NULL DEFAULT 0,
    state          text   NOT NULL CHECK (state IN ('ACTIVE', 'PAUSED', 'FAILING')),
    created_at     bigint NOT NULL,
    last_success   bigint,
    last_error     text,
    last_error_at  bigint
);
