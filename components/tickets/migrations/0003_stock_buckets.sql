-- A ticket type's stock is split over up to eight bucket rows, so that buyers of
-- one popular type update different rows and commit side by side instead of
-- queueing for one. A sale takes from one bucket chosen at random and falls back
-- to all buckets under lock before it answers sold-out, so sold-out stays exact.
CREATE TABLE ticket_stock (
    ticket_type_id uuid     NOT NULL REFERENCES ticket_types (id),
    bucket         smallint NOT NULL,
    quantity       integer  NOT NULL,
    sold           integer  NOT NULL DEFAULT 0,
    PRIMARY KEY (ticket_type_id, bucket),
    CONSTRAINT ticket_stock_bucket_range CHECK (bucket BETWEEN 0 AND 7),
    -- The stock invariant, per bucket: together they never sell past the type's quantity.
    CONSTRAINT ticket_stock_never_oversold CHECK (sold BETWEEN 0 AND quantity)
);

-- Existing stock: split as new types are (quantity spread evenly over
-- min(8, quantity) buckets), the units already sold filling buckets in order.
INSERT INTO ticket_stock (ticket_type_id, bucket, quantity, sold)
SELECT id, bucket, share,
       GREATEST(0, LEAST(share, sold - (sum(share) OVER (PARTITION BY id ORDER BY bucket) - share)))
FROM (
    SELECT t.id, t.sold, b.bucket,
           t.quantity / LEAST(8, t.quantity) + CASE WHEN b.bucket < t.quantity % LEAST(8, t.quantity) THEN 1 ELSE 0 END AS share
    FROM ticket_types t
    CROSS JOIN LATERAL generate_series(0, LEAST(8, t.quantity) - 1) AS b (bucket)
) AS split;

ALTER TABLE ticket_types DROP COLUMN sold;
