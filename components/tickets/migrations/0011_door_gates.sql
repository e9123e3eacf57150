-- Doors with several gates, some offline for a while: a check-in records the
-- gate that scanned it, and a ticket scanned again after its check-in (at
-- another gate that was offline, or a copied code) is kept, so that both gates
-- and the organizer hear of it.
-- The scan's own id, which the gate made: the same scan sent again (its answer
-- lost) is answered as the first time, not taken for a duplicate.
ALTER TABLE tickets ADD COLUMN checked_in_gate text;
ALTER TABLE tickets ADD COLUMN checked_in_scan text;
ALTER TABLE tickets ADD CONSTRAINT tickets_gate_length CHECK (char_length(checked_in_gate) BETWEEN 1 AND 64);
ALTER TABLE tickets ADD CONSTRAINT tickets_scan_length CHECK (char_length(checked_in_scan) BETWEEN 1 AND 64);

CREATE TABLE duplicate_scans (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid        NOT NULL,
    code        text        NOT NULL,
    gate        text,
    scanned_at  timestamptz NOT NULL,
    scanned_by  uuid        NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT duplicate_scans_gate_length CHECK (char_length(gate) BETWEEN 1 AND 64)
);
CREATE INDEX duplicate_scans_event ON duplicate_scans (event_id, id);
