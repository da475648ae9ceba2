-- A refused redemption: PENDING to REJECTED with the refusal ($3 its
-- status code, $4 reason, $5 message), and its code back to ACTIVE. One
-- statement for both tables; no row when it was no longer PENDING.
WITH rejected AS (
  UPDATE redemptions
  SET state = 'REJECTED', reject_code = $3, reject_reason = $4, reject_message = $5,
    update_time = now()
  WHERE account_id = $1 AND request_id = $2 AND state = 'PENDING'
  RETURNING *
),
code AS (
  UPDATE codes c
  SET state = 'ACTIVE', redemption_id = NULL
  FROM rejected
  WHERE c.code_hash = rejected.code_hash AND c.redemption_id = rejected.redemption_id
    AND c.state = 'REDEEMING'
  RETURNING 1
)
SELECT
  rejected.account_id,
  rejected.request_id,
  rejected.redemption_id::text AS redemption_id,
  encode(rejected.code_hash, 'hex') AS code_hash_hex,
  rejected.serial,
  rejected.currency_code,
  rejected.amount_minor,
  rejected.region,
  rejected.state,
  coalesce(rejected.transfer_id, '') AS transfer_id,
  rejected.balance_after_minor,
  rejected.reject_code,
  coalesce(rejected.reject_reason, '') AS reject_reason,
  coalesce(rejected.reject_message, '') AS reject_message,
  (extract(epoch FROM rejected.create_time) * 1000000)::bigint AS create_time_us
FROM rejected
