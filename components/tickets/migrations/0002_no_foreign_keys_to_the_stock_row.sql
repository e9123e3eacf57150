-- Every sale of a ticket type inserts an order and tickets that referenced the
-- ticket type's row, and each such insert took a KEY SHARE lock on that row: under
-- a rush, the very row every buyer updates became a multixact hot spot. Ticket
-- types are never deleted, and orders and tickets are only ever written with the
-- id of a type the same transaction has just read, so these references are kept
-- by the code path, not by locks on the hottest row of the database.
ALTER TABLE orders DROP CONSTRAINT orders_ticket_type_id_fkey;
ALTER TABLE tickets DROP CONSTRAINT tickets_ticket_type_id_fkey;
