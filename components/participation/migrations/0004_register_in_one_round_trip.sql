-- A registration in one round trip, so that the event's lock is held only for
-- the time the database takes. Under the event's lock (every write to one
-- event's registrations takes it first), with a snapshot taken after it, so
-- that every seat taken before counts: the earliest waitlisted registrations
-- are confirmed first while seats are free (after a cancellation, or after the
-- capacity was raised), in queue order; then the new one is confirmed if a seat
-- is still free, else waitlisted; each is journaled by `actor`, promotions
-- first, with the webhook deliveries the entries owe. One row always: the new
-- registration, or NULLs when the member already holds a live one (it inserts
-- nothing rather than failing), and `ready`, the deliveries that may go now.
CREATE FUNCTION register(event uuid, member uuid, capacity bigint, actor uuid)
RETURNS TABLE (id uuid, event_id uuid, user_id uuid, status text, created_at timestamp, updated_at timestamp,
               "position" bigint, ready bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(event::text, 0));
    RETURN QUERY
    WITH seats AS (
        SELECT count(*) FILTER (WHERE r.status = 'confirmed') AS confirmed,
               count(*) FILTER (WHERE r.status = 'waitlisted') AS waitlisted
        FROM registrations r WHERE r.event_id = event
    ), promoted AS (
        UPDATE registrations r SET status = 'confirmed', updated_at = clock_timestamp()
        WHERE r.id IN (
            SELECT w.id FROM registrations w WHERE w.event_id = event AND w.status = 'waitlisted'
            ORDER BY w.queue_seq LIMIT GREATEST(0, capacity - (SELECT confirmed FROM seats))
        )
        RETURNING r.id, r.queue_seq
    ), inserted AS (
        INSERT INTO registrations (event_id, user_id, status)
        SELECT event, member, CASE WHEN confirmed + (SELECT count(*) FROM promoted) < capacity
                                   THEN 'confirmed' ELSE 'waitlisted' END
        FROM seats
        ON CONFLICT DO NOTHING
        RETURNING *
    ), entry AS (
        INSERT INTO journal (kind, subject, event_id, actor, data)
        SELECT e.kind, e.subject, event, actor, e.data FROM (
            SELECT 0 AS turn, p.queue_seq, 'registration.promoted' AS kind, p.id::text AS subject, '{}'::jsonb AS data
            FROM promoted p
            UNION ALL
            SELECT 1, i.queue_seq, 'registration.' || i.status, i.id::text, jsonb_build_object('user_id', i.user_id)
            FROM inserted i
        ) e ORDER BY e.turn, e.queue_seq
        RETURNING journal.id, journal.seq, journal.kind, journal.subject, journal.event_id
    ), owed AS (
        INSERT INTO webhook_deliveries (endpoint_id, entry_id, seq, subject)
        SELECT w.id, entry.id, entry.seq, entry.subject
        FROM entry JOIN webhook_endpoints w
          ON (w.event_id IS NULL OR w.event_id = entry.event_id) AND w.enabled
         AND (w.event_types IS NULL OR entry.kind = ANY (w.event_types))
        RETURNING endpoint_id
    )
    SELECT i.id, i.event_id, i.user_id, i.status,
           i.created_at AT TIME ZONE 'UTC', i.updated_at AT TIME ZONE 'UTC',
           CASE WHEN i.status = 'waitlisted' THEN (SELECT waitlisted FROM seats) - (SELECT count(*) FROM promoted) + 1 END,
           (SELECT count(*) FROM owed JOIN webhook_endpoints w ON w.id = owed.endpoint_id
            WHERE w.paused_until IS NULL OR w.paused_until <= clock_timestamp())
    FROM (VALUES (1)) AS one LEFT JOIN inserted i ON true;
END $$;
