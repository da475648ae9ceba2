-- lookup for a batch: $1/$2 each item's account and request id, $3/$4
-- each item's index (1-based) and one of its hashes. One row per item, in
-- order: its index i, the code (code_), the caller's earlier redemption
-- (prior_).
WITH q AS (
  SELECT *
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(account_id, request_id, i)
),
h AS (
  SELECT * FROM unnest($3::bigint[], $4::bytea[]) AS h(i, code_hash)
)
SELECT
  q.i,
  c.serial AS code_serial,
  c.state AS code_state,
  c.currency_code AS code_currency_code,
  c.amount_minor AS code_amount_minor,
  c.region AS code_region,
  c.batch_id::text AS code_batch_id,
  c.pin_last4 AS code_pin_last4,
  (extract(epoch FROM c.create_time) * 1000000)::bigint AS code_create_time_us,
  (extract(epoch FROM c.activate_time) * 1000000)::bigint AS code_activate_time_us,
  (extract(epoch FROM c.redeem_time) * 1000000)::bigint AS code_redeem_time_us,
  (extract(epoch FROM c.void_time) * 1000000)::bigint AS code_void_time_us,
  (extract(epoch FROM c.expire_time) * 1000000)::bigint AS code_expire_time_us,
  coalesce(c.redeemed_by_account_id, '') AS code_redeemed_by_account_id,
  coalesce(c.redemption_id::text, '') AS code_redemption_id,
  coalesce(c.void_reason, '') AS code_void_reason,
  coalesce(c.block_reason, '') AS code_block_reason,
  (extract(epoch FROM c.block_time) * 1000000)::bigint AS code_block_time_us,
  r.account_id AS prior_account_id,
  r.request_id AS prior_request_id,
  r.redemption_id::text AS prior_redemption_id,
  encode(r.code_hash, 'hex') AS prior_code_hash_hex,
  r.serial AS prior_serial,
  r.currency_code AS prior_currency_code,
  r.amount_minor AS prior_amount_minor,
  r.region AS prior_region,
  r.state AS prior_state,
  coalesce(r.transfer_id, '') AS prior_transfer_id,
  r.balance_after_minor AS prior_balance_after_minor,
  r.reject_code AS prior_reject_code,
  coalesce(r.reject_reason, '') AS prior_reject_reason,
  coalesce(r.reject_message, '') AS prior_reject_message,
  (extract(epoch FROM r.create_time) * 1000000)::bigint AS prior_create_time_us
FROM q
LEFT JOIN LATERAL (
  SELECT codes.*
  FROM h
  JOIN codes ON codes.code_hash = h.code_hash
  WHERE h.i = q.i
  LIMIT 1
) c ON true
LEFT JOIN redemptions r ON r.account_id = q.account_id AND r.request_id = q.request_id
ORDER BY q.i
