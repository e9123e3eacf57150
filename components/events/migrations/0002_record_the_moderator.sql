-- Who made the moderation decision that put an event in its current status.
ALTER TABLE events ADD COLUMN moderated_by uuid;
