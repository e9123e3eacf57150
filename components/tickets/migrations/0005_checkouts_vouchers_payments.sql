-- Checkouts that hold stock for a while, vouchers, orders of several ticket
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
