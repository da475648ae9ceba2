-- A credit application waiting for its debit (PENDING) or its reversal
-- (REVERSAL_PENDING), aged from its last change: the reversal's intent is
-- written as an update. Over the partial index the recovery worker claims
-- from.
SELECT
  count(*) AS count,
  coalesce(extract(epoch FROM now() - min(update_time))::float8, 0) AS oldest_seconds
FROM credit_applications
WHERE state IN ('PENDING', 'REVERSAL_PENDING')
