-- code_by_serial for a batch: each found code after its item's 1-based
-- index i (an unknown serial has no row).
SELECT
  q.i,
  c.serial,
  c.state,
  c.currency_code,
  c.amount_minor,
  c.region,
  c.batch_id::text AS batch_id,
  c.pin_last4,
  (extract(epoch FROM c.create_time) * 1000000)::bigint AS create_time_us,
  (extract(epoch FROM c.activate_time) * 1000000)::bigint AS activate_time_us,
  (extract(epoch FROM c.redeem_time) * 1000000)::bigint AS redeem_time_us,
  (extract(epoch FROM c.void_time) * 1000000)::bigint AS void_time_us,
  (extract(epoch FROM c.expire_time) * 1000000)::bigint AS expire_time_us,
  coalesce(c.redeemed_by_account_id, '') AS redeemed_by_account_id,
  coalesce(c.redemption_id::text, '') AS redemption_id,
  coalesce(c.void_reason, '') AS void_reason,
  coalesce(c.block_reason, '') AS block_reason,
  (extract(epoch FROM c.block_time) * 1000000)::bigint AS block_time_us
FROM unnest($1::text[]) WITH ORDINALITY AS q(serial, i)
JOIN codes c ON c.serial = q.serial
