-- The recovery worker's next PENDING redemptions, each claimed by pushing
-- its next attempt back (exponential, up to $3 ms): $1 min_age (ms), $2
-- how many. SKIP LOCKED: two workers never claim one row.
UPDATE redemptions
SET
  attempts = attempts + 1,
  next_attempt_time = now()
    + make_interval(secs => least($3::float8, $1::float8 * power(2, least(attempts, 30))) / 1000)
FROM (
  SELECT account_id AS a, request_id AS q
  FROM redemptions
  WHERE state = 'PENDING' AND next_attempt_time <= now()
    AND create_time < now() - make_interval(secs => $1::float8 / 1000)
  ORDER BY next_attempt_time
  LIMIT $2
  FOR UPDATE SKIP LOCKED
) due
WHERE account_id = due.a AND request_id = due.q
RETURNING
  account_id,
  request_id,
  redemption_id::text AS redemption_id,
  encode(code_hash, 'hex') AS code_hash_hex,
  serial,
  currency_code,
  amount_minor,
  region,
  state,
  coalesce(transfer_id, '') AS transfer_id,
  balance_after_minor,
  reject_code,
  coalesce(reject_reason, '') AS reject_reason,
  coalesce(reject_message, '') AS reject_message,
  (extract(epoch FROM create_time) * 1000000)::bigint AS create_time_us,
  attempts
