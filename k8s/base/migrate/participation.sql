-- The migration program of the participation domain (newest migration: 0004), rendered by
-- `eventos migrate --job-sql` from components/participation/migrations/: do not edit.
-- Run with: psql -X -q -v ON_ERROR_STOP=1 -d <database URL> -f participation.sql

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
    WHERE version <> ALL (ARRAY['0001', '0002', '0003', '0004']::text[]);
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
    EXECUTE $eventos_migration$-- Registrations of users for events. Capacity lives in the events domain; this
-- domain only counts, under a per-event lock, so confirmed never exceeds it.
CREATE TABLE registrations (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id    uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    status      text        NOT NULL,
    -- Order of arrival: the waitlist is served first come, first served.
    queue_seq   bigint      GENERATED ALWAYS AS IDENTITY,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT registrations_status_known CHECK (status IN ('confirmed', 'waitlisted', 'cancelled'))
);

-- One live registration per user and event.
CREATE UNIQUE INDEX registrations_one_live_per_user ON registrations (event_id, user_id) WHERE status <> 'cancelled';
-- Counting and promoting within one event.
CREATE INDEX registrations_event_status_seq ON registrations (event_id, status, queue_seq);
-- Keyset pagination walks (created_at, id).
CREATE INDEX registrations_created_at_id ON registrations (created_at, id);
CREATE INDEX registrations_user_created_at_id ON registrations (user_id, created_at, id);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0001', 'create_registrations', '8ff89da5ba40d7447972723ec61b15a7f5628cfd22a4d2fad2599fd2d223c3eb');
    RAISE NOTICE 'migrate: applied 0001_create_registrations';
  ELSIF recorded <> '8ff89da5ba40d7447972723ec61b15a7f5628cfd22a4d2fad2599fd2d223c3eb' THEN
    RAISE EXCEPTION 'migration 0001_create_registrations was changed after it was applied; add a new migration instead of editing it';
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
    EXECUTE $eventos_migration$-- The domain's journal (each registration's confirmation, place on the waitlist,
-- promotion and cancellation, with who caused it) and its webhooks: endpoints,
-- and the deliveries each entry owes them, written in the entry's transaction.
CREATE TABLE journal (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind       text        NOT NULL,
    subject    text        NOT NULL,
    event_id   uuid,
    actor      uuid        NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}',
    seq        bigserial   NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX journal_created_at_id ON journal (created_at, id);
CREATE INDEX journal_event_created_at_id ON journal (event_id, created_at, id);

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
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0002', 'journal_and_webhooks', '87bbead3707a19ba0307b3636d4b33b1089f81bfb228811c04bebfc92de48cb3');
    RAISE NOTICE 'migrate: applied 0002_journal_and_webhooks';
  ELSIF recorded <> '87bbead3707a19ba0307b3636d4b33b1089f81bfb228811c04bebfc92de48cb3' THEN
    RAISE EXCEPTION 'migration 0002_journal_and_webhooks was changed after it was applied; add a new migration instead of editing it';
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
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0003', 'managed_webhooks', '404d893a18200f1cd404783b1b76db4b26ca58b82b6a0380a196d0ff3b9708b7');
    RAISE NOTICE 'migrate: applied 0003_managed_webhooks';
  ELSIF recorded <> '404d893a18200f1cd404783b1b76db4b26ca58b82b6a0380a196d0ff3b9708b7' THEN
    RAISE EXCEPTION 'migration 0003_managed_webhooks was changed after it was applied; add a new migration instead of editing it';
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
    EXECUTE $eventos_migration$-- A registration in one round trip, so that the event's lock is held only for
-- the time the database takes. Under the event's lock (every write to one
-- event's registrations takes it first), with a snapshot taken after it, so
-- that every seat taken before counts: the earliest waitlisted registrations
-- are confirmed first while seats are free (after a cancellation, or after the
-- capacity was raised), in queue order; then the new one is confirmed if a seat
-- is still free, else waitlisted; each is journaled by `actor`, promotions
-- first, with the webhook deliveries the entries owe. One row always: the new
-- registration, or NULLs when the member already holds a live one (it inserts
-- nothing rather than failing), and `ready`, the deliveries that may go now.
CREATE FUNCTION register(event uuid, member uuid, capacity bigint, actor uuid)
RETURNS TABLE (id uuid, event_id uuid, user_id uuid, status text, created_at timestamp, updated_at timestamp,
               "position" bigint, ready bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(event::text, 0));
    RETURN QUERY
    WITH seats AS (
        SELECT count(*) FILTER (WHERE r.status = 'confirmed') AS confirmed,
               count(*) FILTER (WHERE r.status = 'waitlisted') AS waitlisted
        FROM registrations r WHERE r.event_id = event
    ), promoted AS (
        UPDATE registrations r SET status = 'confirmed', updated_at = clock_timestamp()
        WHERE r.id IN (
            SELECT w.id FROM registrations w WHERE w.event_id = event AND w.status = 'waitlisted'
            ORDER BY w.queue_seq LIMIT GREATEST(0, capacity - (SELECT confirmed FROM seats))
        )
        RETURNING r.id, r.queue_seq
    ), inserted AS (
        INSERT INTO registrations (event_id, user_id, status)
        SELECT event, member, CASE WHEN confirmed + (SELECT count(*) FROM promoted) < capacity
                                   THEN 'confirmed' ELSE 'waitlisted' END
        FROM seats
        ON CONFLICT DO NOTHING
        RETURNING *
    ), entry AS (
        INSERT INTO journal (kind, subject, event_id, actor, data)
        SELECT e.kind, e.subject, event, actor, e.data FROM (
            SELECT 0 AS turn, p.queue_seq, 'registration.promoted' AS kind, p.id::text AS subject, '{}'::jsonb AS data
            FROM promoted p
            UNION ALL
            SELECT 1, i.queue_seq, 'registration.' || i.status, i.id::text, jsonb_build_object('user_id', i.user_id)
            FROM inserted i
        ) e ORDER BY e.turn, e.queue_seq
        RETURNING journal.id, journal.seq, journal.kind, journal.subject, journal.event_id
    ), owed AS (
        INSERT INTO webhook_deliveries (endpoint_id, entry_id, seq, subject)
        SELECT w.id, entry.id, entry.seq, entry.subject
        FROM entry JOIN webhook_endpoints w
          ON (w.event_id IS NULL OR w.event_id = entry.event_id) AND w.enabled
         AND (w.event_types IS NULL OR entry.kind = ANY (w.event_types))
        RETURNING endpoint_id
    )
    SELECT i.id, i.event_id, i.user_id, i.status,
           i.created_at AT TIME ZONE 'UTC', i.updated_at AT TIME ZONE 'UTC',
           CASE WHEN i.status = 'waitlisted' THEN (SELECT waitlisted FROM seats) - (SELECT count(*) FROM promoted) + 1 END,
           (SELECT count(*) FROM owed JOIN webhook_endpoints w ON w.id = owed.endpoint_id
            WHERE w.paused_until IS NULL OR w.paused_until <= clock_timestamp())
    FROM (VALUES (1)) AS one LEFT JOIN inserted i ON true;
END $$;
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0004', 'register_in_one_round_trip', 'aef9469e133e157807b8c4bd16efcc28a448f9efce101f1b0572b23398d6948d');
    RAISE NOTICE 'migrate: applied 0004_register_in_one_round_trip';
  ELSIF recorded <> 'aef9469e133e157807b8c4bd16efcc28a448f9efce101f1b0572b23398d6948d' THEN
    RAISE EXCEPTION 'migration 0004_register_in_one_round_trip was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;
