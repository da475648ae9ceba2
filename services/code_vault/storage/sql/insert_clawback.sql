-- A PENDING clawback; $4 the code's hash (hex).
INSERT INTO clawbacks (
  request_id, request_fingerprint, redemption_id, code_hash, serial, account_id,
  credit_transfer_id, currency_code, amount_minor, then_state, reason, principal, state
)
VALUES ($1, $2, $3::uuid, decode($4, 'hex'), $5, $6, $7, $8, $9, $10, $11, $12, 'PENDING')
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
