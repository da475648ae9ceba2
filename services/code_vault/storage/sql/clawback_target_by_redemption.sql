-- clawback_target_by_serial, for the redemption id $1 (no row when no
-- code is held by it).
SELECT
  encode(c.code_hash, 'hex') AS code_hash_hex,
  c.state AS code_state,
  coalesce(c.redemption_id::text, '') AS redemption_id,
  r.account_id,
  r.state AS redemption_state,
  r.transfer_id,
  c.serial,
  c.currency_code,
  c.amount_minor
FROM redemptions r
JOIN codes c ON c.code_hash = r.code_hash AND c.redemption_id = r.redemption_id
WHERE r.redemption_id = $1::uuid
FOR UPDATE OF c
