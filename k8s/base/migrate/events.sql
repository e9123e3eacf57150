-- The migration program of the events domain (newest migration: 0003), rendered by
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
    WHERE version <> ALL (ARRAY['0001', '0002', '0003']::text[]);
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
