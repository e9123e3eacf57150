-- The migration program of the events domain (newest migration: 0005), rendered by
-- `eventos migrate --job-sql` from components/events/migrations/: do not edit.
-- Run with: psql -X -q -v ON_ERROR_STOP=1 -d <database URL> -f events.sql

DO $eventos$
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  CREATE TABLE IF NOT EXISTS eventos_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  );
END
$eventos$;

DO $eventos$
DECLARE
  gone text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT string_agg(version, ', ') INTO gone FROM eventos_migrations
    WHERE version <> ALL (ARRAY['0001', '0002', '0003', '0004', '0005']::text[]);
  IF gone IS NOT NULL THEN
    RAISE EXCEPTION 'migration % was applied but its file is gone; migrations are never deleted', gone;
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0001';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- Events and their moderation state. Checks repeat the API's rules so that no
-- code path can store what the API would refuse.
CREATE TABLE events (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    title             text        NOT NULL,
    description       text,
    venue             text,
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    capacity          integer     NOT NULL,
    organizer_id      uuid        NOT NULL,
    status            text        NOT NULL DEFAULT 'pending_review',
    moderation_reason text,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT events_description_length CHECK (char_length(description) <= 5000),
    CONSTRAINT events_venue_length CHECK (char_length(venue) <= 200),
    CONSTRAINT events_capacity_range CHECK (capacity BETWEEN 1 AND 1000000),
    CONSTRAINT events_ends_after_starts CHECK (ends_at > starts_at),
    CONSTRAINT events_status_known CHECK (status IN ('pending_review', 'published', 'rejected', 'cancelled'))
);

-- Lists walk (starts_at, id), optionally within one status or one organizer.
CREATE INDEX events_starts_at_id ON events (starts_at, id);
CREATE INDEX events_status_starts_at_id ON events (status, starts_at, id);
CREATE INDEX events_organizer_starts_at_id ON events (organizer_id, starts_at, id);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0001', 'create_events', 'c4d08a8cc52e1e41b21e3adb061708cdc69952ac6682a4ab9a3603b9d410d06e');
    RAISE NOTICE 'migrate: applied 0001_create_events';
  ELSIF recorded <> 'c4d08a8cc52e1e41b21e3adb061708cdc69952ac6682a4ab9a3603b9d410d06e' THEN
    RAISE EXCEPTION 'migration 0001_create_events was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0002';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- Who made the moderation decision that put an event in its current status.
ALTER TABLE events ADD COLUMN moderated_by uuid;
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0002', 'record_the_moderator', 'a974a09b1db08e03c10884f5988edc4618be103594994e6ee72f6a49ea25396a');
    RAISE NOTICE 'migrate: applied 0002_record_the_moderator';
  ELSIF recorded <> 'a974a09b1db08e03c10884f5988edc4618be103594994e6ee72f6a49ea25396a' THEN
    RAISE EXCEPTION 'migration 0002_record_the_moderator was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0003';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- The domain's journal: each change worth auditing (who moderated, cancelled,
-- refunded, checked in...), written in the transaction that made the change.
CREATE TABLE journal (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind       text        NOT NULL,
    subject    text        NOT NULL,
    event_id   uuid,
    actor      uuid        NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX journal_created_at_id ON journal (created_at, id);
CREATE INDEX journal_event_created_at_id ON journal (event_id, created_at, id);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0003', 'journal', '31299dbe42d97bb86069d5487891a84101f6d8ea05737f7b04c3fd35103b4ad5');
    RAISE NOTICE 'migrate: applied 0003_journal';
  ELSIF recorded <> '31299dbe42d97bb86069d5487891a84101f6d8ea05737f7b04c3fd35103b4ad5' THEN
    RAISE EXCEPTION 'migration 0003_journal was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0004';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- Webhooks: endpoints an event's organizer (or an admin, for every event)
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
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0004', 'webhooks', '2ddc850ba0cea279bfefeabc7d5dfdb71326e0fd0beaa40a9262eb35782bdff2');
    RAISE NOTICE 'migrate: applied 0004_webhooks';
  ELSIF recorded <> '2ddc850ba0cea279bfefeabc7d5dfdb71326e0fd0beaa40a9262eb35782bdff2' THEN
    RAISE EXCEPTION 'migration 0004_webhooks was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0005';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- Webhook endpoints their owners manage (the entry types they want, enabled or
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
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0005', 'managed_webhooks', '404d893a18200f1cd404783b1b76db4b26ca58b82b6a0380a196d0ff3b9708b7');
    RAISE NOTICE 'migrate: applied 0005_managed_webhooks';
  ELSIF recorded <> '404d893a18200f1cd404783b1b76db4b26ca58b82b6a0380a196d0ff3b9708b7' THEN
    RAISE EXCEPTION 'migration 0005_managed_webhooks was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;
