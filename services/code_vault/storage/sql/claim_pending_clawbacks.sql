-- claim_pending, for clawbacks.
UPDATE clawbacks
SET
  attempts = attempts + 1,
  next_attempt_time = now()
    + make_interval(secs => least($3::float8, $1::float8 * power(2, least(attempts, 30))) / 1000)
FROM (
  SELECT request_id AS q
  FROM clawbacks
  WHERE state = 'PENDING' AND next_attempt_time <= now()
    AND create_time < now() - make_interval(secs => $1::float8 / 1000)
  ORDER BY next_attempt_time
  LIMIT $2
  FOR UPDATE SKIP LOCKED
) due
WHERE request_id = due.q
RETURNING
  request_id,
  clawback_id::text AS clawback_id,
  redemption_id::text AS redemption_id,
  serial,
  account_id,
  credit_transfer_id,
  currency_code,
  amount_minor,
  then_state,
  reason,
  principal,
  state,
  coalesce(transfer_id, '') AS transfer_id,
  clawed_back_minor,
  balance_after_minor,
  reject_code,
  coalesce(reject_reason, '') AS reject_reason,
  coalesce(reject_message, '') AS reject_message,
  (extract(epoch FROM create_time) * 1000000)::bigint AS create_time_us,
  attempts
