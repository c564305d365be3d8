-- 0002: revoked client certificates, and the signed messages already seen (replay protection).

-- A revoked certificate is refused whether it is registered or chains to a trusted CA. Rows are never
-- deleted: a revocation outlives the client it belonged to. subject, issuer and serial are for people
-- (clients list); cert_sha256 is what the server compares.
CREATE TABLE revocations (
    cert_sha256 BLOB NOT NULL PRIMARY KEY CHECK (length(cert_sha256) = 32),
    subject     TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    serial      TEXT NOT NULL,
    client      TEXT,             -- the registered name it had, when revoked by 'clients remove'
    reason      TEXT,
    revoked_at  TEXT NOT NULL
);

-- One row per accepted signed message until its Timestamp would be refused anyway. key is the first
-- 16 bytes of the SHA-256 of the canonical SignedInfo; expires_at is Unix nanoseconds (UTC).
CREATE TABLE replay_seen (
    key        BLOB    NOT NULL PRIMARY KEY CHECK (length(key) = 16),
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX replay_seen_expires ON replay_seen (expires_at);
