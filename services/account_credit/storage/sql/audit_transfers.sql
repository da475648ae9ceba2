-- Every transfer with its entries' count and sums.
SELECT
  t.transfer_id::text AS transfer_id,
  t.request_id,
  t.kind,
  t.account_id,
  t.currency_code,
  coalesce(t.reverses_transfer_id::text, '') AS reverses_transfer_id,
  t.amount_minor,
  (extract(epoch FROM t.create_time) * 1000000)::bigint AS create_time_us,
  count(e.entry_id) AS entries,
  coalesce(sum(e.amount_minor), 0) AS entries_sum_minor,
  coalesce(sum(e.amount_minor) FILTER (WHERE e.account_id = t.account_id), 0)
    AS customer_side_minor,
  coalesce(t.owed_added_minor, -1) AS owed_added_minor,
  t.owed_repaid_minor
FROM transfers t
LEFT JOIN ledger_entries e ON e.transfer_id = t.transfer_id
GROUP BY t.request_id
