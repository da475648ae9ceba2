-- The clawback and its code together: PENDING to COMPLETED, and the code
-- REDEEMED to BLOCKED (held from REDEEMED, never unblocked) or VOIDED, the
-- reason being the clawback's. No row: no longer PENDING.
WITH done AS (
  UPDATE clawbacks
  SET state = 'COMPLETED', transfer_id = $2, clawed_back_minor = $3, balance_after_minor = $4,
    update_time = now()
  WHERE clawback_id = $1::uuid AND state = 'PENDING'
  RETURNING *
),
held AS (
  UPDATE codes c
  SET
    state = done.then_state,
    blocked_from = CASE WHEN done.then_state = 'BLOCKED' THEN 'REDEEMED' END,
    block_reason = CASE WHEN done.then_state = 'BLOCKED' THEN done.reason END,
    block_time = CASE WHEN done.then_state = 'BLOCKED' THEN now() END,
    void_reason = CASE WHEN done.then_state = 'VOIDED' THEN done.reason END,
    void_time = CASE WHEN done.then_state = 'VOIDED' THEN now() END
  FROM done
  WHERE c.code_hash = done.code_hash AND c.redemption_id = done.redemption_id
    AND c.state = 'REDEEMED'
  RETURNING 1
)
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
FROM done
