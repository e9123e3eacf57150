-- The domain's journal (each registration's confirmation, place on the waitlist,
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
