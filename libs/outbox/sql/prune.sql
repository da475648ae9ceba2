-- Deletes a prefix of the ids only: among the oldest $2 events by id,
-- everything before the first one written at or after $1 (µs since the
-- epoch; bounded work). Never an id from the middle: a consumer behind the
-- prefix is told by pruned_through.
WITH oldest AS (
  SELECT event_id, event_time FROM events ORDER BY event_id LIMIT $2
),
cut AS (
  SELECT coalesce(
    (SELECT min(event_id) - 1 FROM oldest
     WHERE event_time >= to_timestamp($1::double precision / 1000000)),
    (SELECT max(event_id) FROM oldest)) AS through
),
gone AS (
  DELETE FROM events WHERE event_id <= (SELECT through FROM cut) RETURNING 1
),
mark AS (
  UPDATE event_counter SET pruned_through = greatest(pruned_through, through)
  FROM cut
  WHERE through IS NOT NULL
  RETURNING 1
)
SELECT count(*) AS pruned FROM gone
