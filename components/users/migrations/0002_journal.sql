-- The domain's journal: what admins did to other people's accounts (created,
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
