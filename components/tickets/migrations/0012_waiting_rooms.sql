-- A waiting room for an event's on-sale. Visitors who come before the on-sale
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
