-- The migration program of the users domain (newest migration: 0002), rendered by
-- `eventos migrate --job-sql` from components/users/migrations/: do not edit.
-- Run with: psql -X -q -v ON_ERROR_STOP=1 -d <database URL> -f users.sql

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
    WHERE version <> ALL (ARRAY['0001', '0002']::text[]);
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
    EXECUTE $eventos_migration$-- Users of the platform. Emails are stored lower-cased, so uniqueness is case-blind.
CREATE TABLE users (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email       text        NOT NULL,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_lower CHECK (email = lower(email)),
    CONSTRAINT users_name_length CHECK (char_length(name) BETWEEN 1 AND 200)
);

-- Keyset pagination walks (created_at, id).
CREATE INDEX users_created_at_id ON users (created_at, id);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0001', 'create_users', 'e488c51e9ef17a8a8b5e468b2acd9ab038def3a9363851187d2221f4c36b9772');
    RAISE NOTICE 'migrate: applied 0001_create_users';
  ELSIF recorded <> 'e488c51e9ef17a8a8b5e468b2acd9ab038def3a9363851187d2221f4c36b9772' THEN
    RAISE EXCEPTION 'migration 0001_create_users was changed after it was applied; add a new migration instead of editing it';
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
    EXECUTE $eventos_migration$-- The domain's journal: what admins did to other people's accounts (created,
-- changed, deleted them), with who did it, written in the transaction that
-- made the change. Read by admins at GET /api/users/audit.
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
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0002', 'journal', '551576fc4a3b73f634a520f90f49dacb3f8fe82eed1bf276062b17e1eeb8a447');
    RAISE NOTICE 'migrate: applied 0002_journal';
  ELSIF recorded <> '551576fc4a3b73f634a520f90f49dacb3f8fe82eed1bf276062b17e1eeb8a447' THEN
    RAISE EXCEPTION 'migration 0002_journal was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;
