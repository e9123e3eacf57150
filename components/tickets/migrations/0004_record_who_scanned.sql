-- The staff member who checked a ticket in.
ALTER TABLE tickets ADD COLUMN checked_in_by uuid;
