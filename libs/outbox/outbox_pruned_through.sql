-- Shared by every service's NNN_events_pruned_through.sql migration (issue
-- 27, item 9). Pruning removes a prefix of the event ids only, and records
-- the last id it removed: a consumer resuming at or below it is told
-- (OUT_OF_RANGE with the oldest kept id) instead of silently skipping
-- events that an age-based DELETE took from the middle of the stream
-- (event_time is when a change happened; ids follow commit order, so an
-- older id can carry a newer time).
ALTER TABLE event_counter ADD COLUMN pruned_through bigint NOT NULL DEFAULT 0;
UPDATE event_counter
   SET pruned_through = coalesce((SELECT min(event_id) - 1 FROM events), last_event_id);
