-- 0002: revoked client certificates, and the signed messages already seen (replay protection).

-- A revoked certificate is refused whether it is registered or chains to a trusted CA. Rows are never
-- deleted: a revocation outlives the client it belonged to. subject, issuer and serial are for people
-- (clients list); cert_sha256 is what the server compares.
CREATE TABLE revocations (
    cert_sha256 bytea  NOT NULL PRIMARY KEY CHECK (length(cert_sha256) = 32),
    subject     text   NOT NULL,
    issuer      text   NOT NULL,
    serial      text   NOT NULL,
    client      text,             -- the registered name it had, when revoked by 'clients remove'
    reason      text,
    revoked_at  bigint NOT NULL   -- Unix nanoseconds
);

-- One row per accepted signed message until its Timestamp would be refused anyway. key is the first
-- 16 bytes of the SHA-256 of the canonical SignedInfo; expires_at is Unix nanoseconds (UTC).
-- Logged, not UNLOGGED: see the replay benchmark and the README (a crash must not reopen the window).
CREATE TABLE replay_seen (
    key        bytea  NOT NULL PRIMARY KEY CHECK (length(key) = 16),
    expires_at bigint NOT NULL
);

CREATE INDEX replay_seen_expires ON replay_seen (expires_at);
