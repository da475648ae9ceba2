-- The accounts of a batch's postings, locked in account order: concurrent
-- batches lock in one order and never deadlock each other.
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
WHERE account_id = ANY($1::text[])
ORDER BY account_id
FOR UPDATE
