-- A clawback's target, its code locked first: every clawback of a
-- redemption takes this lock before it looks for another one. One row:
-- the code, then the redemption that holds it (its columns null when
-- there is none).
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
FROM codes c
LEFT JOIN redemptions r ON r.redemption_id = c.redemption_id
WHERE c.serial = $1
FOR UPDATE OF c
