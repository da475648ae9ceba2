SELECT
  account_id,
  country,
  currency_code,
  billing_channel,
  balance_minor,
  (extract(epoch FROM create_time) * 1000000)::bigint AS create_time_us,
  (extract(epoch FROM update_time) * 1000000)::bigint AS update_time_us,
  closed,
  currency_locked,
  owed_minor
FROM accounts
WHERE account_id = $1
