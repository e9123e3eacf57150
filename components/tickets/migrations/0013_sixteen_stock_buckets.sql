-- Sixteen stock buckets per ticket type instead of eight. A sale that finds
-- every bucket of its type held by other sales reads the type again and then
-- waits for one; with eight, a host's sixteen database connections could hold
-- them all, and under load one sale in seven took that longer way. With as
-- many buckets as a host has connections, one host's sales alone can no
-- longer hold every bucket of a type while another of them looks for one.
--
-- Existing stock is split again as new types are (quantity spread evenly over
-- min(16, quantity) buckets, the units already sold filling buckets in order),
-- with sales kept out meanwhile: the type's quantity and sold stay the same.
LOCK TABLE ticket_stock IN EXCLUSIVE MODE;

ALTER TABLE ticket_stock
    DROP CONSTRAINT ticket_stock_bucket_range,
    ADD CONSTRAINT ticket_stock_bucket_range CHECK (bucket BETWEEN 0 AND 15);

CREATE TEMPORARY TABLE stock_before ON COMMIT DROP AS
SELECT ticket_type_id, sum(quantity)::int AS quantity, sum(sold)::int AS sold
FROM ticket_stock GROUP BY ticket_type_id;

DELETE FROM ticket_stock;

INSERT INTO ticket_stock (ticket_type_id, bucket, quantity, sold)
SELECT ticket_type_id, bucket, share,
       GREATEST(0, LEAST(share, sold - (sum(share) OVER (PARTITION BY ticket_type_id ORDER BY bucket) - share)))
FROM (
    SELECT s.ticket_type_id, s.sold, b.bucket,
           s.quantity / GREATEST(1, LEAST(16, s.quantity))
           + CASE WHEN b.bucket < s.quantity % GREATEST(1, LEAST(16, s.quantity)) THEN 1 ELSE 0 END AS share
    FROM stock_before s
    CROSS JOIN LATERAL generate_series(0, GREATEST(1, LEAST(16, s.quantity)) - 1) AS b (bucket)
) AS split;
