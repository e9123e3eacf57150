-- Events and their moderation state. Checks repeat the API's rules so that no
-- code path can store what the API would refuse.
CREATE TABLE events (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    title             text        NOT NULL,
    description       text,
    venue             text,
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    capacity          integer     NOT NULL,
    organizer_id      uuid        NOT NULL,
    status            text        NOT NULL DEFAULT 'pending_review',
    moderation_reason text,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT events_description_length CHECK (char_length(description) <= 5000),
    CONSTRAINT events_venue_length CHECK (char_length(venue) <= 200),
    CONSTRAINT events_capacity_range CHECK (capacity BETWEEN 1 AND 1000000),
    CONSTRAINT events_ends_after_starts CHECK (ends_at > starts_at),
    CONSTRAINT events_status_known CHECK (status IN ('pending_review', 'published', 'rejected', 'cancelled'))
);

-- Lists walk (starts_at, id), optionally within one status or one organizer.
CREATE INDEX events_starts_at_id ON events (starts_at, id);
CREATE INDEX events_status_starts_at_id ON events (status, starts_at, id);
CREATE INDEX events_organizer_starts_at_id ON events (organizer_id, starts_at, id);
