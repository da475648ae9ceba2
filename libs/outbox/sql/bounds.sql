-- The ids a consumer can read: from the oldest kept to the last, and the
-- stream they belong to.
SELECT
  pruned_through + 1 AS oldest_kept,
  last_event_id,
  stream_epoch
FROM event_counter
