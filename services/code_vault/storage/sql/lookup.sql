-- The code with one of the hashes $1 (a PIN's, under each pepper) and the
-- caller's earlier redemption, in one round trip: one row, each side's
-- columns (code_, prior_) null when it is absent.
SELECT
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
FROM (SELECT 1) one
LEFT JOIN codes c ON c.code_hash = ANY($1::bytea[])
LEFT JOIN redemptions r ON r.account_id = $2 AND r.request_id = $3
