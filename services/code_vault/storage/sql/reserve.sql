-- The heart of exactly-once: only a code still ACTIVE (and not expired)
-- moves to REDEEMING, and the PENDING redemption is written with it,
-- unless the caller's (account_id, request_id) already has a redemption:
-- then nothing changes, and that earlier redemption is returned (a
-- replay). When it reserves nothing, the same statement returns the code
-- as its snapshot saw it, and that is the answer. (Seen ACTIVE yet not
-- reserved: a concurrent call took it while this one waited on the row.)
-- $4 the caller's principal ('' for none). One row: the new redemption
-- (new_), the code seen (code_), the earlier redemption (prior_), each
-- null when absent.
WITH reserved AS (
  UPDATE codes
  SET state = 'REDEEMING', redemption_id = gen_random_uuid()
  WHERE code_hash = ANY($1::bytea[]) AND state = 'ACTIVE'
    AND (expire_time IS NULL OR expire_time > now())
    AND NOT EXISTS (SELECT 1 FROM redemptions WHERE account_id = $2 AND request_id = $3)
  RETURNING code_hash, serial, currency_code, amount_minor, region, redemption_id
),
ins AS (
  INSERT INTO redemptions (
    account_id, request_id, redemption_id, code_hash, serial, currency_code, amount_minor, region,
    state, principal
  )
  SELECT
    $2, $3, redemption_id, code_hash, serial, currency_code, amount_minor, region, 'PENDING',
    nullif($4, '')
  FROM reserved
  RETURNING *
)
SELECT
  ins.account_id AS new_account_id,
  ins.request_id AS new_request_id,
  ins.redemption_id::text AS new_redemption_id,
  encode(ins.code_hash, 'hex') AS new_code_hash_hex,
  ins.serial AS new_serial,
  ins.currency_code AS new_currency_code,
  ins.amount_minor AS new_amount_minor,
  ins.region AS new_region,
  ins.state AS new_state,
  coalesce(ins.transfer_id, '') AS new_transfer_id,
  ins.balance_after_minor AS new_balance_after_minor,
  ins.reject_code AS new_reject_code,
  coalesce(ins.reject_reason, '') AS new_reject_reason,
  coalesce(ins.reject_message, '') AS new_reject_message,
  (extract(epoch FROM ins.create_time) * 1000000)::bigint AS new_create_time_us,
  seen.serial AS code_serial,
  seen.state AS code_state,
  seen.currency_code AS code_currency_code,
  seen.amount_minor AS code_amount_minor,
  seen.region AS code_region,
  seen.batch_id::text AS code_batch_id,
  seen.pin_last4 AS code_pin_last4,
  (extract(epoch FROM seen.create_time) * 1000000)::bigint AS code_create_time_us,
  (extract(epoch FROM seen.activate_time) * 1000000)::bigint AS code_activate_time_us,
  (extract(epoch FROM seen.redeem_time) * 1000000)::bigint AS code_redeem_time_us,
  (extract(epoch FROM seen.void_time) * 1000000)::bigint AS code_void_time_us,
  (extract(epoch FROM seen.expire_time) * 1000000)::bigint AS code_expire_time_us,
  coalesce(seen.redeemed_by_account_id, '') AS code_redeemed_by_account_id,
  coalesce(seen.redemption_id::text, '') AS code_redemption_id,
  coalesce(seen.void_reason, '') AS code_void_reason,
  coalesce(seen.block_reason, '') AS code_block_reason,
  (extract(epoch FROM seen.block_time) * 1000000)::bigint AS code_block_time_us,
  prior.account_id AS prior_account_id,
  prior.request_id AS prior_request_id,
  prior.redemption_id::text AS prior_redemption_id,
  encode(prior.code_hash, 'hex') AS prior_code_hash_hex,
  prior.serial AS prior_serial,
  prior.currency_code AS prior_currency_code,
  prior.amount_minor AS prior_amount_minor,
  prior.region AS prior_region,
  prior.state AS prior_state,
  coalesce(prior.transfer_id, '') AS prior_transfer_id,
  prior.balance_after_minor AS prior_balance_after_minor,
  prior.reject_code AS prior_reject_code,
  coalesce(prior.reject_reason, '') AS prior_reject_reason,
  coalesce(prior.reject_message, '') AS prior_reject_message,
  (extract(epoch FROM prior.create_time) * 1000000)::bigint AS prior_create_time_us
FROM (SELECT 1) one
LEFT JOIN codes seen ON seen.code_hash = ANY($1::bytea[])
LEFT JOIN ins ON true
LEFT JOIN redemptions prior ON prior.account_id = $2 AND prior.request_id = $3
