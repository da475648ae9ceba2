-- Creates or updates an account ($5 NULL keeps it open or closed as it
-- is). ON CONFLICT's WHERE sees the row as locked, after any posting that
-- set the currency lock has committed: no row back means the currency of
-- an account with ledger entries would change.
INSERT INTO accounts AS a (account_id, country, currency_code, billing_channel, closed)
VALUES ($1, $2, $3, $4, coalesce($5::boolean, false))
ON CONFLICT (account_id) DO UPDATE
SET country = EXCLUDED.country,
    currency_code = EXCLUDED.currency_code,
    billing_channel = EXCLUDED.billing_channel,
    closed = coalesce($5::boolean, a.closed),
    update_time = now()
WHERE NOT a.currency_locked OR a.currency_code = EXCLUDED.currency_code
RETURNING
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
