-- Ticket types with their stock, orders, and the tickets they issued.
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
