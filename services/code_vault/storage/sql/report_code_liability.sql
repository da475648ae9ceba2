-- Sold and still owed, per currency: ACTIVE, or held while ACTIVE, and not
-- past expiry; REDEEMING apart (in flight). A sequential scan of codes: a
-- report, not a hot path.
SELECT
  currency_code,
  count(*) FILTER (WHERE state = 'ACTIVE') AS active_codes,
  coalesce(sum(amount_minor) FILTER (WHERE state = 'ACTIVE'), 0)::bigint AS active_minor,
  count(*) FILTER (WHERE state = 'BLOCKED') AS blocked_codes,
  coalesce(sum(amount_minor) FILTER (WHERE state = 'BLOCKED'), 0)::bigint AS blocked_minor,
  count(*) FILTER (WHERE state = 'REDEEMING') AS redeeming_codes,
  coalesce(sum(amount_minor) FILTER (WHERE state = 'REDEEMING'), 0)::bigint AS redeeming_minor,
  (extract(epoch FROM now()) * 1000000)::bigint AS read_time_us
FROM codes
WHERE state = 'REDEEMING'
   OR ((state = 'ACTIVE' OR (state = 'BLOCKED' AND blocked_from = 'ACTIVE'))
       AND (expire_time IS NULL OR expire_time > now()))
GROUP BY currency_code
ORDER BY currency_code
