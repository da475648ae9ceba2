SELECT
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
FROM clawbacks
WHERE clawback_id = $1::uuid
