-- What waits to be relayed, for backlog::Gauges: the oldest row by key
-- (the ids grow with time), so the probe reads one index entry however
-- long the outbox has grown; the count stops at 100,000, past any
-- threshold worth paging on.
SELECT
  (SELECT count(*) FROM (SELECT 1 FROM event_outbox LIMIT 100000) waiting) AS count,
  coalesce(
    (SELECT extract(epoch FROM now() - event_time)::float8
     FROM event_outbox ORDER BY outbox_id LIMIT 1),
    0) AS oldest_seconds
