-- Signed tickets: each event signs its tickets' codes with an Ed25519 key of
-- its own, so a scanner holding only the public keys can tell a real ticket
-- from a forged one. Keys are numbered per event; the newest one that is not
-- retired signs, every key is published, and a retired key verifies nothing.
CREATE TABLE signing_keys (
    event_id    uuid        NOT NULL,
    key_id      integer     NOT NULL,
    seed        bytea       NOT NULL,
    public_key  bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    retired_at  timestamptz,
    PRIMARY KEY (event_id, key_id),
    CONSTRAINT signing_keys_key_id_positive CHECK (key_id >= 1),
    CONSTRAINT signing_keys_seed_length CHECK (octet_length(seed) = 32),
    CONSTRAINT signing_keys_public_key_length CHECK (octet_length(public_key) = 32)
);

-- The revocation list: every voided ticket, numbered per event in the order the
-- voids committed, so a scanner asks only for what came after the last number
-- it holds. The counter row is locked by each void until it commits, so no
-- number becomes visible before a smaller one of the same event.
CREATE TABLE revocation_counters (
    event_id  uuid   PRIMARY KEY,
    version   bigint NOT NULL,
    CONSTRAINT revocation_counters_version_positive CHECK (version >= 1)
);

CREATE TABLE ticket_revocations (
    event_id    uuid        NOT NULL,
    version     bigint      NOT NULL,
    code        text        NOT NULL UNIQUE,
    revoked_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (event_id, version)
);
