-- What ticketing last heard from the events component about an event it sells
-- for: a sale trusts a `published` heard within the last second instead of
-- asking again, so an on-sale asks events about once a second, not once an order.
CREATE TABLE event_facts (
    event_id     uuid        PRIMARY KEY,
    status       text        NOT NULL,
    organizer_id uuid        NOT NULL,
    checked_at   timestamptz NOT NULL
);
