-- Redemptions the recovery worker has not settled yet, and the age of the
-- oldest (backlog::Gauges), over the partial index it claims from.
SELECT
  count(*) AS count,
  coalesce(extract(epoch FROM now() - min(create_time))::float8, 0) AS oldest_seconds
FROM redemptions
WHERE state = 'PENDING'
