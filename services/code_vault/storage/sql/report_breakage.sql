-- Breakage per batch, month (UTC) and kind: sold (activated) codes never
-- redeemed that expired (ACTIVE or held while ACTIVE, past expiry) or were
-- voided (a voided code that was redeemed, after a clawback, keeps its
-- redemption id and is not breakage).
SELECT
  batch_id::text AS batch_id,
  to_char(t AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
  kind,
  currency_code,
  count(*) AS codes,
  sum(amount_minor)::bigint AS amount_minor,
  (extract(epoch FROM now()) * 1000000)::bigint AS read_time_us
FROM (
  SELECT batch_id, currency_code, amount_minor, 'VOIDED' AS kind, void_time AS t
  FROM codes
  WHERE state = 'VOIDED' AND redemption_id IS NULL AND activate_time IS NOT NULL
  UNION ALL
  SELECT batch_id, currency_code, amount_minor, 'EXPIRED', expire_time
  FROM codes
  WHERE expire_time <= now()
    AND (state = 'ACTIVE' OR (state = 'BLOCKED' AND blocked_from = 'ACTIVE'))
) broken
GROUP BY 1, 2, 3, 4
ORDER BY 2, 1, 3
