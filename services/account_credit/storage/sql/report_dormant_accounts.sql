-- Accounts holding credit whose last entry is older than $2 days, after
-- account $1, at most $3. An account's last entry is its highest entry id
-- (the primary key's order): one index probe per account holding credit.
SELECT
  a.account_id,
  a.country,
  a.currency_code,
  a.balance_minor,
  (extract(epoch FROM last.create_time) * 1000000)::bigint AS last_entry_time_us
FROM accounts a
JOIN LATERAL (
  SELECT create_time
  FROM ledger_entries e
  WHERE e.account_id = a.account_id
  ORDER BY entry_id DESC
  LIMIT 1
) last ON true
WHERE a.balance_minor > 0
  AND a.account_id > $1
  AND last.create_time < now() - make_interval(days => $2)
ORDER BY a.account_id
LIMIT $3
