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
