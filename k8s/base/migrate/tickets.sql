-- The migration program of the tickets domain (newest migration: 0004), rendered by
-- `eventos migrate --job-sql` from components/tickets/migrations/: do not edit.
-- Run with: psql -X -q -v ON_ERROR_STOP=1 -d <database URL> -f tickets.sql

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
    EXECUTE $eventos_migration$-- Ticket types with their stock, orders, and the tickets they issued.
CREATE TABLE ticket_types (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id     uuid        NOT NULL,
    name         text        NOT NULL,
    price_cents  bigint      NOT NULL,
    currency     text        NOT NULL,
    quantity     integer     NOT NULL,
    sold         integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT ticket_types_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT ticket_types_price_not_negative CHECK (price_cents >= 0),
    CONSTRAINT ticket_types_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT ticket_types_quantity_range CHECK (quantity BETWEEN 1 AND 1000000),
    -- The stock invariant, enforced by the database whatever the code does.
    CONSTRAINT ticket_types_never_oversold CHECK (sold BETWEEN 0 AND quantity)
);
CREATE INDEX ticket_types_event_created_at_id ON ticket_types (event_id, created_at, id);
CREATE INDEX ticket_types_created_at_id ON ticket_types (created_at, id);

CREATE TABLE orders (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    ticket_type_id      uuid        NOT NULL REFERENCES ticket_types (id),
    user_id             uuid        NOT NULL,
    quantity            integer     NOT NULL,
    total_cents         bigint      NOT NULL,
    currency            text        NOT NULL,
    status              text        NOT NULL DEFAULT 'confirmed',
    processed_by        text        NOT NULL,
    -- A replayed request with the same key gets this order back and buys nothing.
    idempotency_key     text        UNIQUE,
    request_fingerprint text,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT orders_quantity_range CHECK (quantity BETWEEN 1 AND 10),
    CONSTRAINT orders_status_known CHECK (status IN ('confirmed', 'cancelled')),
    CONSTRAINT orders_key_has_fingerprint CHECK ((idempotency_key IS NULL) = (request_fingerprint IS NULL))
);
CREATE INDEX orders_ticket_type ON orders (ticket_type_id);

CREATE TABLE tickets (
    code            text        PRIMARY KEY,
    order_id        uuid        NOT NULL REFERENCES orders (id),
    ticket_type_id  uuid        NOT NULL REFERENCES ticket_types (id),
    event_id        uuid        NOT NULL,
    status          text        NOT NULL DEFAULT 'valid',
    checked_in_at   timestamptz,
    CONSTRAINT tickets_code_format CHECK (code ~ '^TKT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$'),
    CONSTRAINT tickets_status_known CHECK (status IN ('valid', 'checked_in', 'void')),
    CONSTRAINT tickets_check_in_time CHECK ((status = 'checked_in') = (checked_in_at IS NOT NULL))
);
CREATE INDEX tickets_order ON tickets (order_id);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0001', 'create_ticketing', '778bb19470784b7ea27ace9fea45dcfb5b1eaf4b2b6d58fcf1da282699d127c6');
    RAISE NOTICE 'migrate: applied 0001_create_ticketing';
  ELSIF recorded <> '778bb19470784b7ea27ace9fea45dcfb5b1eaf4b2b6d58fcf1da282699d127c6' THEN
    RAISE EXCEPTION 'migration 0001_create_ticketing was changed after it was applied; add a new migration instead of editing it';
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
    EXECUTE $eventos_migration$-- Every sale of a ticket type inserts an order and tickets that referenced the
-- ticket type's row, and each such insert took a KEY SHARE lock on that row: under
-- a rush, the very row every buyer updates became a multixact hot spot. Ticket
-- types are never deleted, and orders and tickets are only ever written with the
-- id of a type the same transaction has just read, so these references are kept
-- by the code path, not by locks on the hottest row of the database.
ALTER TABLE orders DROP CONSTRAINT orders_ticket_type_id_fkey;
ALTER TABLE tickets DROP CONSTRAINT tickets_ticket_type_id_fkey;
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0002', 'no_foreign_keys_to_the_stock_row', '9ead0d62a0db0a6ff2530a5b9d25fc7db448522ac3c95109d95a17bd38924f44');
    RAISE NOTICE 'migrate: applied 0002_no_foreign_keys_to_the_stock_row';
  ELSIF recorded <> '9ead0d62a0db0a6ff2530a5b9d25fc7db448522ac3c95109d95a17bd38924f44' THEN
    RAISE EXCEPTION 'migration 0002_no_foreign_keys_to_the_stock_row was changed after it was applied; add a new migration instead of editing it';
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
    EXECUTE $eventos_migration$-- A ticket type's stock is split over up to eight bucket rows, so that buyers of
-- one popular type update different rows and commit side by side instead of
-- queueing for one. A sale takes from one bucket chosen at random and falls back
-- to all buckets under lock before it answers sold-out, so sold-out stays exact.
CREATE TABLE ticket_stock (
    ticket_type_id uuid     NOT NULL REFERENCES ticket_types (id),
    bucket         smallint NOT NULL,
    quantity       integer  NOT NULL,
    sold           integer  NOT NULL DEFAULT 0,
    PRIMARY KEY (ticket_type_id, bucket),
    CONSTRAINT ticket_stock_bucket_range CHECK (bucket BETWEEN 0 AND 7),
    -- The stock invariant, per bucket: together they never sell past the type's quantity.
    CONSTRAINT ticket_stock_never_oversold CHECK (sold BETWEEN 0 AND quantity)
);

-- Existing stock: split as new types are (quantity spread evenly over
-- min(8, quantity) buckets), the units already sold filling buckets in order.
INSERT INTO ticket_stock (ticket_type_id, bucket, quantity, sold)
SELECT id, bucket, share,
       GREATEST(0, LEAST(share, sold - (sum(share) OVER (PARTITION BY id ORDER BY bucket) - share)))
FROM (
    SELECT t.id, t.sold, b.bucket,
           t.quantity / LEAST(8, t.quantity) + CASE WHEN b.bucket < t.quantity % LEAST(8, t.quantity) THEN 1 ELSE 0 END AS share
    FROM ticket_types t
    CROSS JOIN LATERAL generate_series(0, LEAST(8, t.quantity) - 1) AS b (bucket)
) AS split;

ALTER TABLE ticket_types DROP COLUMN sold;
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0003', 'stock_buckets', 'f15435fd0a9e6655b46b536681d42277bca76624546c4c71118f960588905d31');
    RAISE NOTICE 'migrate: applied 0003_stock_buckets';
  ELSIF recorded <> 'f15435fd0a9e6655b46b536681d42277bca76624546c4c71118f960588905d31' THEN
    RAISE EXCEPTION 'migration 0003_stock_buckets was changed after it was applied; add a new migration instead of editing it';
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
    EXECUTE $eventos_migration$-- The staff member who checked a ticket in.
ALTER TABLE tickets ADD COLUMN checked_in_by uuid;
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0004', 'record_who_scanned', '29d7fd7e71fcfafccff8acad51a84573a390d7eeeeb4832f192355a6f54d9771');
    RAISE NOTICE 'migrate: applied 0004_record_who_scanned';
  ELSIF recorded <> '29d7fd7e71fcfafccff8acad51a84573a390d7eeeeb4832f192355a6f54d9771' THEN
    RAISE EXCEPTION 'migration 0004_record_who_scanned was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;
