-- The one source of the journal every domain keeps: a domain that needs it copies
-- this file into its next migration, and host/tests/schema.rs migrates every
-- domain for real and compares its tables with what this file makes.
--
-- The domain's journal: each change worth auditing (who moderated, cancelled,
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
