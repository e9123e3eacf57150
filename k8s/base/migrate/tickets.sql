-- The migration program of the tickets domain (newest migration: 0013), rendered by
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
    WHERE version <> ALL (ARRAY['0001', '0002', '0003', '0004', '0005', '0006', '0007', '0008', '0009', '0010', '0011', '0012', '0013']::text[]);
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

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0005';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- Checkouts that hold stock for a while, vouchers, orders of several ticket
-- types, and the payment and refunds of an order.

-- A hidden ticket type is sold only through a voucher that unlocks it.
ALTER TABLE ticket_types ADD COLUMN hidden boolean NOT NULL DEFAULT false;

CREATE TABLE vouchers (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id         uuid        NOT NULL,
    code             text        NOT NULL,
    percent_off      integer,
    amount_off_cents bigint,
    -- Hidden ticket types of the event the voucher lets its holder buy.
    unlocks          uuid[]      NOT NULL DEFAULT '{}',
    max_uses         integer     NOT NULL,
    -- Checkouts holding or having used the voucher; an expired checkout gives its use back.
    used             integer     NOT NULL DEFAULT 0,
    valid_from       timestamptz,
    valid_until      timestamptz,
    created_by       uuid        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT vouchers_code_per_event UNIQUE (event_id, code),
    CONSTRAINT vouchers_code_format CHECK (code ~ '^[A-Z0-9_-]{3,32}$'),
    CONSTRAINT vouchers_one_discount CHECK (percent_off IS NULL OR amount_off_cents IS NULL),
    CONSTRAINT vouchers_percent_range CHECK (percent_off BETWEEN 1 AND 100),
    CONSTRAINT vouchers_amount_positive CHECK (amount_off_cents > 0),
    CONSTRAINT vouchers_max_uses_range CHECK (max_uses BETWEEN 1 AND 1000000),
    -- The redemption invariant, enforced by the database whatever the code does.
    CONSTRAINT vouchers_never_overused CHECK (used BETWEEN 0 AND max_uses),
    CONSTRAINT vouchers_window CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until)
);
CREATE INDEX vouchers_event_created_at_id ON vouchers (event_id, created_at, id);

-- A checkout takes its stock from the buckets as a sale does; while it is open
-- and not yet expired its lines count as held, not sold. Whoever next needs the
-- stock of an expired checkout gives it back (no background job is needed).
CREATE TABLE checkouts (
    id          uuid        PRIMARY KEY,
    event_id    uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    voucher_id  uuid        REFERENCES vouchers (id),
    currency    text        NOT NULL,
    status      text        NOT NULL DEFAULT 'open',
    expires_at  timestamptz NOT NULL,
    order_id    uuid        UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT checkouts_status_known CHECK (status IN ('open', 'confirmed', 'expired', 'cancelled')),
    CONSTRAINT checkouts_confirmed_has_order CHECK ((status = 'confirmed') = (order_id IS NOT NULL))
);
CREATE INDEX checkouts_open_by_expiry ON checkouts (event_id, expires_at) WHERE status = 'open';
CREATE INDEX checkouts_user_created_at_id ON checkouts (user_id, created_at, id);

CREATE TABLE checkout_lines (
    checkout_id      uuid    NOT NULL REFERENCES checkouts (id),
    ticket_type_id   uuid    NOT NULL,
    quantity         integer NOT NULL,
    list_price_cents bigint  NOT NULL,
    unit_price_cents bigint  NOT NULL,
    -- The line's stock is taken from the buckets and not yet sold nor given back.
    held             boolean NOT NULL DEFAULT true,
    PRIMARY KEY (checkout_id, ticket_type_id),
    CONSTRAINT checkout_lines_quantity_range CHECK (quantity BETWEEN 1 AND 10),
    CONSTRAINT checkout_lines_price_range CHECK (unit_price_cents BETWEEN 0 AND list_price_cents)
);
CREATE INDEX checkout_lines_held ON checkout_lines (ticket_type_id) WHERE held;

-- Orders: of one event, of one or several ticket types, with what is due and
-- whether it was paid. `ticket_type_id` stays for orders of a single type.
ALTER TABLE orders ALTER COLUMN ticket_type_id DROP NOT NULL;
ALTER TABLE orders ADD COLUMN event_id uuid;
UPDATE orders o SET event_id = t.event_id FROM ticket_types t WHERE t.id = o.ticket_type_id;
ALTER TABLE orders ALTER COLUMN event_id SET NOT NULL;
CREATE INDEX orders_event_created_at_id ON orders (event_id, created_at, id);
ALTER TABLE orders ADD COLUMN discount_cents bigint NOT NULL DEFAULT 0;
ALTER TABLE orders ADD CONSTRAINT orders_discount_range CHECK (discount_cents BETWEEN 0 AND total_cents);
ALTER TABLE orders ADD COLUMN voucher_code text;
ALTER TABLE orders ADD COLUMN checkout_id uuid UNIQUE;
ALTER TABLE orders ADD COLUMN payment text NOT NULL DEFAULT 'pending';
ALTER TABLE orders ADD CONSTRAINT orders_payment_known CHECK (payment IN ('pending', 'paid', 'refunded'));
ALTER TABLE orders ADD COLUMN payment_reference text;
-- Nothing to collect for a free order.
UPDATE orders SET payment = 'paid' WHERE total_cents = 0;

-- What each ticket cost its buyer (after a voucher): what a refund gives back.
ALTER TABLE tickets ADD COLUMN price_cents bigint;
UPDATE tickets k SET price_cents = t.price_cents FROM ticket_types t WHERE t.id = k.ticket_type_id;
ALTER TABLE tickets ALTER COLUMN price_cents SET NOT NULL;

CREATE TABLE refunds (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id     uuid        NOT NULL REFERENCES orders (id),
    amount_cents bigint      NOT NULL,
    tickets      text[]      NOT NULL,
    refunded_by  uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT refunds_amount_not_negative CHECK (amount_cents >= 0)
);
CREATE INDEX refunds_order ON refunds (order_id);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0005', 'checkouts_vouchers_payments', 'f2716a3395a4aaa40bf84f30cd9f8ae1599b2ef18e7c1bbf39dcbcb0bc93ef06');
    RAISE NOTICE 'migrate: applied 0005_checkouts_vouchers_payments';
  ELSIF recorded <> 'f2716a3395a4aaa40bf84f30cd9f8ae1599b2ef18e7c1bbf39dcbcb0bc93ef06' THEN
    RAISE EXCEPTION 'migration 0005_checkouts_vouchers_payments was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0006';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- What ticketing last heard from the events component about an event it sells
-- for: a sale trusts a `published` heard within the last second instead of
-- asking again, so an on-sale asks events about once a second, not once an order.
CREATE TABLE event_facts (
    event_id     uuid        PRIMARY KEY,
    status       text        NOT NULL,
    organizer_id uuid        NOT NULL,
    checked_at   timestamptz NOT NULL
);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0006', 'event_facts', '0f4877fae9364cb92e571d6e52e4ee4f1e98022aeddc7ceb9c01545de8d6ee6e');
    RAISE NOTICE 'migrate: applied 0006_event_facts';
  ELSIF recorded <> '0f4877fae9364cb92e571d6e52e4ee4f1e98022aeddc7ceb9c01545de8d6ee6e' THEN
    RAISE EXCEPTION 'migration 0006_event_facts was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0007';
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
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0007', 'journal', '31299dbe42d97bb86069d5487891a84101f6d8ea05737f7b04c3fd35103b4ad5');
    RAISE NOTICE 'migrate: applied 0007_journal';
  ELSIF recorded <> '31299dbe42d97bb86069d5487891a84101f6d8ea05737f7b04c3fd35103b4ad5' THEN
    RAISE EXCEPTION 'migration 0007_journal was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0008';
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
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0008', 'webhooks', '2ddc850ba0cea279bfefeabc7d5dfdb71326e0fd0beaa40a9262eb35782bdff2');
    RAISE NOTICE 'migrate: applied 0008_webhooks';
  ELSIF recorded <> '2ddc850ba0cea279bfefeabc7d5dfdb71326e0fd0beaa40a9262eb35782bdff2' THEN
    RAISE EXCEPTION 'migration 0008_webhooks was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0009';
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

-- A voucher's uses that expired checkouts still hold, counted when it is read.
CREATE INDEX checkouts_open_voucher ON checkouts (voucher_id) WHERE status = 'open' AND voucher_id IS NOT NULL;
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0009', 'managed_webhooks', '157e59690fde3e3a9f94a6344ff6528e6138f1cc4508b5e259748c5ed859c4bf');
    RAISE NOTICE 'migrate: applied 0009_managed_webhooks';
  ELSIF recorded <> '157e59690fde3e3a9f94a6344ff6528e6138f1cc4508b5e259748c5ed859c4bf' THEN
    RAISE EXCEPTION 'migration 0009_managed_webhooks was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0010';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- Signed tickets: each event signs its tickets' codes with an Ed25519 key of
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
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0010', 'signed_tickets', 'b8264b61f36cc23b63dc6ecda4bd23a98822a983d1c55b600ab5e1265ca30394');
    RAISE NOTICE 'migrate: applied 0010_signed_tickets';
  ELSIF recorded <> 'b8264b61f36cc23b63dc6ecda4bd23a98822a983d1c55b600ab5e1265ca30394' THEN
    RAISE EXCEPTION 'migration 0010_signed_tickets was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0011';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- Doors with several gates, some offline for a while: a check-in records the
-- gate that scanned it, and a ticket scanned again after its check-in (at
-- another gate that was offline, or a copied code) is kept, so that both gates
-- and the organizer hear of it.
-- The scan's own id, which the gate made: the same scan sent again (its answer
-- lost) is answered as the first time, not taken for a duplicate.
ALTER TABLE tickets ADD COLUMN checked_in_gate text;
ALTER TABLE tickets ADD COLUMN checked_in_scan text;
ALTER TABLE tickets ADD CONSTRAINT tickets_gate_length CHECK (char_length(checked_in_gate) BETWEEN 1 AND 64);
ALTER TABLE tickets ADD CONSTRAINT tickets_scan_length CHECK (char_length(checked_in_scan) BETWEEN 1 AND 64);

CREATE TABLE duplicate_scans (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid        NOT NULL,
    code        text        NOT NULL,
    gate        text,
    scanned_at  timestamptz NOT NULL,
    scanned_by  uuid        NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT duplicate_scans_gate_length CHECK (char_length(gate) BETWEEN 1 AND 64)
);
CREATE INDEX duplicate_scans_event ON duplicate_scans (event_id, id);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0011', 'door_gates', 'db9268d4540ca89460170cb8b1e99075ada52b6f1cb4f276029fea4be5833e39');
    RAISE NOTICE 'migrate: applied 0011_door_gates';
  ELSIF recorded <> 'db9268d4540ca89460170cb8b1e99075ada52b6f1cb4f276029fea4be5833e39' THEN
    RAISE EXCEPTION 'migration 0011_door_gates was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0012';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- A waiting room for an event's on-sale. Visitors who come before the on-sale
-- get their places in a shuffle drawn at the on-sale from a seed whose SHA-256
-- is published when the room is made; the seed is revealed with the draw.
-- Later visitors queue first come first served. Each place is admitted at a
-- time of its own, at most `admissions_per_minute`, and a visitor admitted
-- holds a pass for `pass_seconds`, buying at most `per_buyer_limit` tickets.
CREATE TABLE waiting_rooms (
    event_id              uuid        PRIMARY KEY,
    on_sale_at            timestamptz NOT NULL,
    admissions_per_minute integer     NOT NULL,
    per_buyer_limit       integer     NOT NULL,
    pass_seconds          integer     NOT NULL,
    seed                  bytea       NOT NULL,
    pass_secret           bytea       NOT NULL,
    -- Set by the draw, the first request after the on-sale.
    drawn_at              timestamptz,
    early_count           integer,
    -- Visitors so far, early and late (no join counts the places), and when
    -- the next late one may be admitted.
    early_joined          integer     NOT NULL DEFAULT 0,
    late_count            integer     NOT NULL DEFAULT 0,
    next_admission_at     timestamptz,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    closed_at             timestamptz,
    CONSTRAINT waiting_rooms_rate_range CHECK (admissions_per_minute BETWEEN 1 AND 600000),
    CONSTRAINT waiting_rooms_limit_range CHECK (per_buyer_limit BETWEEN 1 AND 100),
    CONSTRAINT waiting_rooms_pass_range CHECK (pass_seconds BETWEEN 60 AND 3600),
    CONSTRAINT waiting_rooms_seed_length CHECK (octet_length(seed) = 32),
    CONSTRAINT waiting_rooms_secret_length CHECK (octet_length(pass_secret) = 32),
    CONSTRAINT waiting_rooms_drawn_whole CHECK ((drawn_at IS NULL) = (early_count IS NULL)
                                                AND (drawn_at IS NULL) = (next_admission_at IS NULL))
);

-- One place per buyer and event: another tab or a retry finds the same place.
CREATE TABLE room_visitors (
    event_id    uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    visitor_id  uuid        NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    joined_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    early       boolean     NOT NULL,
    -- Known for an early visitor once drawn, for a late one when it joins.
    position    integer,
    admit_at    timestamptz,
    -- Tickets bought with the pass, never past the room's per-buyer limit.
    bought      integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, user_id),
    CONSTRAINT room_visitors_placed_whole CHECK ((position IS NULL) = (admit_at IS NULL)),
    CONSTRAINT room_visitors_bought_not_negative CHECK (bought >= 0)
);
CREATE INDEX room_visitors_position ON room_visitors (event_id, position);
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0012', 'waiting_rooms', 'edd60f4412fe312af2019dcf46882a0534fec031e387ef9fe2a0d024ad75a548');
    RAISE NOTICE 'migrate: applied 0012_waiting_rooms';
  ELSIF recorded <> 'edd60f4412fe312af2019dcf46882a0534fec031e387ef9fe2a0d024ad75a548' THEN
    RAISE EXCEPTION 'migration 0012_waiting_rooms was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;

DO $eventos$
DECLARE
  recorded text;
BEGIN
  PERFORM pg_advisory_xact_lock(28559150664675187);
  SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '0013';
  IF recorded IS NULL THEN
    EXECUTE $eventos_migration$-- Sixteen stock buckets per ticket type instead of eight. A sale that finds
-- every bucket of its type held by other sales reads the type again and then
-- waits for one; with eight, a host's sixteen database connections could hold
-- them all, and under load one sale in seven took that longer way. With as
-- many buckets as a host has connections, one host's sales alone can no
-- longer hold every bucket of a type while another of them looks for one.
--
-- Existing stock is split again as new types are (quantity spread evenly over
-- min(16, quantity) buckets, the units already sold filling buckets in order),
-- with sales kept out meanwhile: the type's quantity and sold stay the same.
LOCK TABLE ticket_stock IN EXCLUSIVE MODE;

ALTER TABLE ticket_stock
    DROP CONSTRAINT ticket_stock_bucket_range,
    ADD CONSTRAINT ticket_stock_bucket_range CHECK (bucket BETWEEN 0 AND 15);

CREATE TEMPORARY TABLE stock_before ON COMMIT DROP AS
SELECT ticket_type_id, sum(quantity)::int AS quantity, sum(sold)::int AS sold
FROM ticket_stock GROUP BY ticket_type_id;

DELETE FROM ticket_stock;

INSERT INTO ticket_stock (ticket_type_id, bucket, quantity, sold)
SELECT ticket_type_id, bucket, share,
       GREATEST(0, LEAST(share, sold - (sum(share) OVER (PARTITION BY ticket_type_id ORDER BY bucket) - share)))
FROM (
    SELECT s.ticket_type_id, s.sold, b.bucket,
           s.quantity / GREATEST(1, LEAST(16, s.quantity))
           + CASE WHEN b.bucket < s.quantity % GREATEST(1, LEAST(16, s.quantity)) THEN 1 ELSE 0 END AS share
    FROM stock_before s
    CROSS JOIN LATERAL generate_series(0, GREATEST(1, LEAST(16, s.quantity)) - 1) AS b (bucket)
) AS split;
$eventos_migration$;
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('0013', 'sixteen_stock_buckets', 'd3dc23167336387195081b0281c0f7cbd1bfd2944120200a15f649c6d41b9b36');
    RAISE NOTICE 'migrate: applied 0013_sixteen_stock_buckets';
  ELSIF recorded <> 'd3dc23167336387195081b0281c0f7cbd1bfd2944120200a15f649c6d41b9b36' THEN
    RAISE EXCEPTION 'migration 0013_sixteen_stock_buckets was changed after it was applied; add a new migration instead of editing it';
  END IF;
END
$eventos$;
