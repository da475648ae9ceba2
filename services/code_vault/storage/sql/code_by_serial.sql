SELECT
  serial,
  state,
  currency_code,
  amount_minor,
  region,
  batch_id::text AS batch_id,
  pin_last4,
  (extract(epoch FROM create_time) * 1000000)::bigint AS create_time_us,
  (extract(epoch FROM activate_time) * 1000000)::bigint AS activate_time_us,
  (extract(epoch FROM redeem_time) * 1000000)::bigint AS redeem_time_us,
  (extract(epoch FROM void_time) * 1000000)::bigint AS void_time_us,
  (extract(epoch FROM expire_time) * 1000000)::bigint AS expire_time_us,
  coalesce(redeemed_by_account_id, '') AS redeemed_by_account_id,
  coalesce(redemption_id::text, '') AS redemption_id,
  coalesce(void_reason, '') AS void_reason,
  coalesce(block_reason, '') AS block_reason,
  (extract(epoch FROM block_time) * 1000000)::bigint AS block_time_us
FROM codes
WHERE serial = $1
