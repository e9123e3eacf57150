-- The one source of the webhook tables every domain keeps: a domain that needs it copies
-- this file into its next migration, and host/tests/schema.rs migrates every
-- domain for real and compares its tables with what this file makes.
--
-- Webhooks: endpoints an event's organizer (or an admin, for every event)
-- registers, and the deliveries each journal entry owes them, written in the
-- entry's own transaction: the journal is the outbox.
ALTER TABLE journal ADD COLUMN seq bigserial;
CREATE UNIQUE INDEX journal_seq ON journal (seq);

CREATE TABLE webhook_endpoints (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL: every event's entries.
    event_id   uuid,
    url        text        NOT NULL,
    secret     text        NOT NULL,
    created_by uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT webhook_endpoints_url_http CHECK (url ~ '^https?://[^/@\s]+')
);
CREATE INDEX webhook_endpoints_event ON webhook_endpoints (event_id);
CREATE INDEX webhook_endpoints_created_at_id ON webhook_endpoints (created_at, id);

CREATE TABLE webhook_deliveries (
    endpoint_id     uuid        NOT NULL REFERENCES webhook_endpoints (id),
    entry_id        uuid        NOT NULL REFERENCES journal (id),
    -- The entry's place in the journal, and what it is about: a subject's
    -- entries are delivered to an endpoint one after the other, in order.
    seq             bigint      NOT NULL,
    subject         text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivered_at    timestamptz,
    last_error      text,
    PRIMARY KEY (endpoint_id, entry_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, subject, seq) WHERE delivered_at IS NULL;

-- Webhook endpoints their owners manage (the entry types they want, enabled or
-- not, a rotated secret that keeps signing for a while), backed off as a whole
-- while they fail and disabled, with the reason, after failing for days;
-- deliveries as a queue of what is owed, leased while an attempt is in flight;
-- and a log of every attempt.
ALTER TABLE webhook_endpoints
    ADD COLUMN event_types                text[],
    ADD COLUMN enabled                    boolean     NOT NULL DEFAULT true,
    ADD COLUMN disabled_reason            text,
    ADD COLUMN previous_secret            text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    -- Attempts failed in a row, since when, and no attempt before `paused_until`.
    ADD COLUMN failures                   integer     NOT NULL DEFAULT 0,
    ADD COLUMN failing_since              timestamptz,
    ADD COLUMN paused_until               timestamptz,
    ADD COLUMN updated_at                 timestamptz NOT NULL DEFAULT clock_timestamp();

-- The deliveries are a queue of what is owed, nothing more: a delivery made is
-- deleted (its attempts stay in the log below), so an entry adds one row and one
-- index entry per endpoint, and a claim walks an endpoint's queue by its key, in
-- journal order.
DELETE FROM webhook_deliveries WHERE delivered_at IS NOT NULL;
DROP INDEX webhook_deliveries_due;
DROP INDEX webhook_deliveries_queue;
ALTER TABLE webhook_deliveries
    DROP CONSTRAINT webhook_deliveries_pkey,
    ADD PRIMARY KEY (endpoint_id, seq),
    DROP COLUMN delivered_at,
    -- Claimed by an attempt until then (another may take it once the lease runs out).
    ADD COLUMN leased_until timestamptz,
    -- No foreign keys: checking one locks the endpoint's row (FOR KEY SHARE) in
    -- every sale that owes it a delivery, and every concurrent sale of the event
    -- shares those rows. Deliveries are written only for endpoints and entries
    -- that exist, and deleting an endpoint deletes what it is owed.
    DROP CONSTRAINT webhook_deliveries_endpoint_id_fkey,
    DROP CONSTRAINT webhook_deliveries_entry_id_fkey;
-- The attempts in flight, counted against the caps at every claim.
CREATE INDEX webhook_deliveries_in_flight ON webhook_deliveries (endpoint_id) WHERE leased_until IS NOT NULL;

CREATE TABLE webhook_attempts (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id  uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- NULL for a test message.
    entry_id     uuid,
    kind         text        NOT NULL,
    -- The receiver's status code; NULL when none came.
    status       integer,
    -- Why it failed; NULL when it was delivered.
    error        text,
    duration_ms  integer     NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, attempted_at, id);
