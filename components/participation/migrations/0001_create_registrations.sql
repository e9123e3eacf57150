-- Registrations of users for events. Capacity lives in the events domain; this
-- domain only counts, under a per-event lock, so confirmed never exceeds it.
CREATE TABLE registrations (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id    uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    status      text        NOT NULL,
    -- Order of arrival: the waitlist is served first come, first served.
    queue_seq   bigint      GENERATED ALWAYS AS IDENTITY,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT registrations_status_known CHECK (status IN ('confirmed', 'waitlisted', 'cancelled'))
);

-- One live registration per user and event.
CREATE UNIQUE INDEX registrations_one_live_per_user ON registrations (event_id, user_id) WHERE status <> 'cancelled';
-- Counting and promoting within one event.
CREATE INDEX registrations_event_status_seq ON registrations (event_id, status, queue_seq);
-- Keyset pagination walks (created_at, id).
CREATE INDEX registrations_created_at_id ON registrations (created_at, id);
CREATE INDEX registrations_user_created_at_id ON registrations (user_id, created_at, id);
