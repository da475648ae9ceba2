-- reserve for a batch, with the parameters of lookup_many and $5 each
-- item's principal ('' for none). Two items for one code: the UPDATE takes
-- the code once, for one of them; the other sees it ACTIVE yet not
-- reserved, as a concurrent loser does. An item whose request id has a
-- redemption already reserves nothing and gets that one. A request id
-- taken by a concurrent call fails the statement (unique violation): the
-- batch is then reserved item by item. One row per item, in order, joined
-- by the item's ordinal (never by its request id): its index i, then the
-- columns of reserve's row. The caller never puts one (account, request
-- id) in a batch twice.
WITH q AS (
  SELECT *
  FROM unnest($1::text[], $2::text[], $5::text[]) WITH ORDINALITY
    AS q(account_id, request_id, principal, i)
),
h AS (
  SELECT * FROM unnest($3::bigint[], $4::bytea[]) AS h(i, code_hash)
),
reserved AS (
  UPDATE codes c
  SET state = 'REDEEMING', redemption_id = gen_random_uuid()
  FROM h
  WHERE c.code_hash = h.code_hash AND c.state = 'ACTIVE'
    AND (c.expire_time IS NULL OR c.expire_time > now())
    AND NOT EXISTS (
      SELECT 1
      FROM q
      JOIN redemptions p ON p.account_id = q.account_id AND p.request_id = q.request_id
      WHERE q.i = h.i
    )
  RETURNING h.i, c.code_hash, c.serial, c.currency_code, c.amount_minor, c.region, c.redemption_id
),
ins AS (
  INSERT INTO redemptions (
    account_id, request_id, redemption_id, code_hash, serial, currency_code, amount_minor, region,
    state, principal
  )
  SELECT
    q.account_id, q.request_id, r.redemption_id, r.code_hash, r.serial, r.currency_code,
    r.amount_minor, r.region, 'PENDING', nullif(q.principal, '')
  FROM reserved r
  JOIN q ON q.i = r.i
  RETURNING *
)
SELECT
  q.i,
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
FROM q
LEFT JOIN reserved r ON r.i = q.i
LEFT JOIN ins ON ins.redemption_id = r.redemption_id
LEFT JOIN LATERAL (
  SELECT codes.*
  FROM h
  JOIN codes ON codes.code_hash = h.code_hash
  WHERE h.i = q.i
  LIMIT 1
) seen ON true
LEFT JOIN redemptions prior ON prior.account_id = q.account_id AND prior.request_id = q.request_id
ORDER BY q.i
