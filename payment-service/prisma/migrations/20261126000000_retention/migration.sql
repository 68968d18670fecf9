-- Dedup records are deleted once they are older than the event streams' maximum age (shared/src/retention.ts).
CREATE INDEX `processed_events_processed_at_idx` ON `processed_events`(`processed_at`);
