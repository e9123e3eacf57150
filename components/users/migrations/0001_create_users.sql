-- Users of the platform. Emails are stored lower-cased, so uniqueness is case-blind.
CREATE TABLE users (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email       text        NOT NULL,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_lower CHECK (email = lower(email)),
    CONSTRAINT users_name_length CHECK (char_length(name) BETWEEN 1 AND 200)
);

-- Keyset pagination walks (created_at, id).
CREATE INDEX users_created_at_id ON users (created_at, id);
