-- The caller's redemption under (account_id, request_id).
SELECT
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
  (extract(epoch FROM create_time) * 1000000)::bigint AS create_time_us
FROM redemptions
WHERE account_id = $1 AND request_id = $2
